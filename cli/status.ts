/**
 * `status`: a pool's import jobs, every page, with the gauges the monitor would publish from the same listing. The
 * AWS calls are the handler's (a paced client with adaptive retries, the listing's token guard, discovery's
 * ListUserPools and patterns); the figures are its own functions, so the CLI and the monitor cannot disagree.
 */
import { CognitoIdentityProviderClient, ListUserImportJobsCommand, UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';
import { JobStatus, METRIC_INVALID_JOBS, METRIC_JOBS, METRIC_JOBS_AWAITING_START, METRIC_JOBS_STUCK, userPoolRegion } from '../lib/contract';
import { Calls, Log } from '../lambda/calls';
import { cognitoClient } from '../lambda/clients';
import { mapWithConcurrency } from '../lambda/concurrency';
import { DEFAULT_COGNITO_REQUESTS_PER_SECOND, DEFAULT_MAX_ATTEMPTS } from '../lambda/config';
import { WarningLimits, computeFigures, countWarnings } from '../lambda/figures';
import { discoverPools } from '../lambda/fleet';
import { checkJobs, jobProblems } from '../lambda/job-check';
import { PAGE_SIZE, listAllJobs } from '../lambda/listing';
import type { StatusOptions } from './args';
import { describeFailure } from './errors';

/** A listed job as the CLI shows it; a job the monitor leaves out keeps its values as listed, with its problems. */
export interface JobView {
  readonly jobId: unknown;
  readonly jobName?: unknown;
  readonly status?: unknown;
  readonly importedUsers?: unknown;
  readonly skippedUsers?: unknown;
  readonly failedUsers?: unknown;
  readonly creationDate?: Date;
  readonly startDate?: Date;
  readonly completionDate?: Date;
  readonly completionMessage?: string;
  /** Counted in JobsAwaitingStart, or JobsStuck, now. */
  readonly awaitingStart: boolean;
  readonly stuck: boolean;
  /** Why the monitor leaves it out (counted in InvalidJobs); empty for a job it counts. */
  readonly problems: readonly string[];
}

/** The gauges a run would publish from this listing, by metric name (the `Jobs` gauge by `Status`). */
export interface Gauges {
  readonly [METRIC_JOBS]: Record<JobStatus, number>;
  readonly [METRIC_JOBS_AWAITING_START]: number;
  readonly [METRIC_JOBS_STUCK]: number;
  readonly [METRIC_INVALID_JOBS]: number;
}

export interface PoolStatus {
  readonly userPoolId: string;
  readonly region: string;
  /** Known when discovered (ListUserPools names each pool). */
  readonly name?: string;
  readonly pages: number;
  /** Newest first. */
  readonly jobs: readonly JobView[];
  readonly gauges: Gauges;
  /** With `--since`: the jobs that ended Failed or Expired within it. */
  readonly failedSince: readonly JobView[];
}

export interface PoolFailure {
  readonly userPoolId: string;
  readonly region: string;
  readonly name?: string;
  readonly error: { readonly name: string; readonly message: string };
}

export type PoolResult = PoolStatus | PoolFailure;

export function isFailure(result: PoolResult): result is PoolFailure {
  return 'error' in result;
}

/**
 * What a listing shows now: each job with its warnings and problems, the gauges (the handler's computeFigures and
 * countWarnings over the jobs its checkJobs keeps), and the jobs that ended Failed or Expired since `sinceMs` ago
 * (at their CompletionDate, or their creation when Cognito gives none).
 */
export function poolStatus(
  pool: { userPoolId: string; region: string; name?: string },
  listing: { jobs: readonly UserImportJobType[]; pages: number },
  now: Date,
  limits: WarningLimits,
  sinceMs?: number,
): PoolStatus {
  const { valid, invalid } = checkJobs(listing.jobs, now);
  const figures = computeFigures(valid, []);
  const warnings = countWarnings(valid, now, limits);
  const jobs = listing.jobs.map((job): JobView => {
    const problems = jobProblems(job, now);
    // A job's own warnings are the same function over it alone: it counts in the gauge exactly when flagged here.
    const flags = problems.length === 0 ? countWarnings([job], now, limits) : { awaitingStart: 0, stuck: 0 };
    const date = (d: unknown) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d : undefined);
    return {
      jobId: job.JobId,
      jobName: job.JobName,
      status: job.Status,
      importedUsers: job.ImportedUsers,
      skippedUsers: job.SkippedUsers,
      failedUsers: job.FailedUsers,
      creationDate: date(job.CreationDate),
      startDate: date(job.StartDate),
      completionDate: date(job.CompletionDate),
      completionMessage: job.CompletionMessage,
      awaitingStart: flags.awaitingStart > 0,
      stuck: flags.stuck > 0,
      problems,
    };
  });
  jobs.sort((a, b) => (b.creationDate?.getTime() ?? -Infinity) - (a.creationDate?.getTime() ?? -Infinity));
  const from = sinceMs === undefined ? undefined : now.getTime() - sinceMs;
  const failedSince =
    from === undefined
      ? []
      : jobs.filter((job) => {
          const ended = job.completionDate ?? job.creationDate;
          return job.problems.length === 0 && (job.status === 'Failed' || job.status === 'Expired') && ended !== undefined && ended.getTime() >= from;
        });
  return {
    ...pool,
    pages: listing.pages,
    jobs,
    gauges: {
      [METRIC_JOBS]: figures.jobs,
      [METRIC_JOBS_AWAITING_START]: warnings.awaitingStart,
      [METRIC_JOBS_STUCK]: warnings.stuck,
      [METRIC_INVALID_JOBS]: invalid.length,
    },
    failedSince,
  };
}

// Pools listed at once in the fleet form: their calls share each region's paced client all the same.
const POOL_CONCURRENCY = 4;

/** Lists the pools the options name, or discover, each on its own: a pool that fails is reported and stops no other. */
export async function listStatus(options: StatusOptions, now: () => Date, log: Log): Promise<{ discovered: boolean; results: PoolResult[] }> {
  // One client per region, as a fleet's: paced to the monitor's default rate, so that the CLI run beside monitors
  // leaves Cognito's shared read quota room; the adaptive retries slow down further when Cognito throttles.
  const clients = new Map<string | undefined, CognitoIdentityProviderClient>();
  const clientFor = (region: string | undefined) => {
    if (!clients.has(region)) clients.set(region, cognitoClient(region, DEFAULT_MAX_ATTEMPTS, DEFAULT_COGNITO_REQUESTS_PER_SECOND));
    return clients.get(region)!;
  };
  const limits = { awaitingStartMs: options.awaitingStartMs, stuckMs: options.stuckMs };
  try {
    const { pools } = options;
    const names = new Map<string, string>();
    let ids: readonly string[];
    if (pools.kind === 'list') {
      ids = pools.userPoolIds;
    } else {
      const calls = new Calls({ monitor: 'status --discover' });
      ids = await discoverPools(clientFor(pools.region), calls, pools, names, log).catch((error) => {
        throw new AwsFailure(describeFailure(error, { region: pools.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION }), error);
      });
    }
    const settled = await mapWithConcurrency(ids, POOL_CONCURRENCY, async (userPoolId) => {
      const region = userPoolRegion(userPoolId)!;
      const pool = { userPoolId, region, ...(names.has(userPoolId) ? { name: names.get(userPoolId) } : {}) };
      try {
        const listing = await listJobs(clientFor(region), userPoolId);
        return poolStatus(pool, listing, now(), limits, options.since?.ms);
      } catch (error) {
        const cause = error as Error;
        return { ...pool, error: { name: cause.name, message: describeFailure(error, { userPoolId, region }) } };
      }
    });
    const results = settled.map((s) => (s.status === 'fulfilled' ? s.value : unreachable(s.reason)));
    return { discovered: pools.kind === 'discover', results };
  } finally {
    for (const client of clients.values()) client.destroy();
  }
}

/** Every job of a pool: each page a call of its own, through the handler's listing (its token guard included). */
async function listJobs(cognito: CognitoIdentityProviderClient, userPoolId: string) {
  const calls = new Calls({ userPoolId });
  return listAllJobs(async (token, page) => {
    const answer = await calls.send(`ListUserImportJobs page ${page}`, (options) =>
      cognito.send(new ListUserImportJobsCommand({ UserPoolId: userPoolId, MaxResults: PAGE_SIZE, PaginationToken: token }), options),
    );
    return { jobs: answer.UserImportJobs ?? [], nextToken: answer.PaginationToken };
  });
}

/** A failure of the whole command (discovery), already told as what to do. */
export class AwsFailure extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'AwsFailure';
  }
}

function unreachable(reason: unknown): never {
  throw reason;
}
