/** One run for one pool, as the README's "How it counts" tells it: list, read the state, store the changes, publish. */
import {
  ListUserImportJobsCommand,
  UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  PAGE_SIZE,
  computeFigures,
  countWarnings,
  listAllJobs,
  planChanges,
} from './logic';
import { RunDependencies, call } from './aws';
import { PublishedFigures, publishHeartbeat, publishMetrics } from './metrics';
import { conditionalPut, markerItem, putIfAbsent, readState, storeChange } from './state';

// A type, not an interface, so that it can be logged as a record of fields.
export type RunSummary = {
  readonly userPoolId: string;
  readonly jobs: number;
  readonly pages: number;
  readonly firstRun: boolean;
  readonly changesStored: number;
  readonly changesStoredElsewhere: number;
  readonly figures: PublishedFigures;
};


// Parallel conditional writes: enough to store a first run of 1,000 jobs in well under a second.
const WRITE_CONCURRENCY = 16;

/**
 * One run for one pool. Nothing is stored or published unless the listing is complete; then each
 * change is stored with a conditional write, and only the changes this run stored are counted.
 */
export async function runOnce(deps: RunDependencies): Promise<RunSummary> {
  const { cognito, config, log } = deps;

  const { jobs, pages } = await listAllJobs(async (token, page) => {
    const answer = await call(deps, `ListUserImportJobs page ${page}`, (options) =>
      cognito.send(
        new ListUserImportJobsCommand({ UserPoolId: config.userPoolId, MaxResults: PAGE_SIZE, PaginationToken: token }),
        options,
      ),
    );
    return { jobs: answer.UserImportJobs ?? [], nextToken: answer.PaginationToken };
  });

  const { stored, marker } = await readState(deps);
  const firstRun = marker?.FirstRunCompletedAt === undefined;
  let historyBefore: string | undefined;
  if (firstRun) {
    // The first run's cut-off between history and news is stored before any job, so that a retry of a first
    // run cut short keeps it, rather than moving it on and filing a recent completion as history.
    historyBefore = marker?.HistoryBefore ?? new Date(deps.now.getTime() - config.periodMs).toISOString();
    if (marker === undefined) await putIfAbsent(deps, markerItem(deps, { HistoryBefore: historyBefore }));
  }
  const plan = planChanges(jobs, stored, { historyBefore: historyBefore ? new Date(historyBefore) : undefined });
  for (const job of plan.unknownStatus) {
    log.warn('Job has a status the monitor does not know; it is left out of every metric', jobFields(job));
  }
  for (const job of plan.stale) {
    log.warn('Job is listed in an older state than the one stored; it is left alone', jobFields(job));
  }

  const outcomes = await mapWithConcurrency(plan.changes, WRITE_CONCURRENCY, (change) => storeChange(deps, change));
  const storedChanges = plan.changes.filter((_, i) => outcomes[i].status === 'fulfilled' && outcomes[i].value);
  const failedWrites: Error[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') {
      failedWrites.push(o.reason);
      log.error('Could not store a job change; the next run will count it', { ...jobFields(plan.changes[i].job), error: o.reason });
    }
  });

  const figures: PublishedFigures = { ...computeFigures(jobs, storedChanges), warnings: countWarnings(jobs, deps.now, config.warnings) };
  for (const change of storedChanges) {
    // A first run logs only what it counts: the rest is the baseline, perhaps a thousand old jobs.
    const baseline = firstRun && change.previous === undefined && !change.completed;
    if (change.next.status !== change.previous?.status && !baseline) {
      log.info(change.completed ? 'Import job completed' : 'Import job status changed', {
        ...jobFields(change.job),
        previousStatus: change.previous?.status ?? null,
        status: change.next.status,
      });
    }
  }
  publishMetrics(config, deps.now, figures);

  if (firstRun && failedWrites.length === 0) {
    // Marked after publishing what was stored: a first run cut short is still a first run, so history is
    // never counted as news, and a failed mark loses no count.
    await conditionalPut(
      deps,
      markerItem(deps, { HistoryBefore: historyBefore, FirstRunCompletedAt: deps.now.toISOString() }),
      'attribute_not_exists(#done)',
      { '#done': 'FirstRunCompletedAt' },
    );
  }

  const summary: RunSummary = {
    userPoolId: config.userPoolId,
    jobs: jobs.length,
    pages,
    firstRun,
    changesStored: storedChanges.length,
    changesStoredElsewhere: plan.changes.length - storedChanges.length - failedWrites.length,
    figures,
  };
  log.info('Run summary', summary);
  if (failedWrites.length === 0) publishHeartbeat(config, deps.now);
  if (failedWrites.length > 0) {
    throw new AggregateError(
      failedWrites,
      `could not store ${failedWrites.length} of ${plan.changes.length} job changes for user pool ${config.userPoolId} ` +
        `(first: ${failedWrites[0].message}); they will be counted by the next run`,
      { cause: failedWrites[0] },
    );
  }
  return summary;
}

function jobFields(job: UserImportJobType): Record<string, unknown> {
  return {
    jobId: job.JobId,
    jobName: job.JobName,
    status: job.Status,
    importedUsers: job.ImportedUsers,
    skippedUsers: job.SkippedUsers,
    failedUsers: job.FailedUsers,
    completionMessage: job.CompletionMessage,
  };
}


async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
