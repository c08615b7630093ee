/**
 * One pool's run, as docs/how-it-counts.md tells it: list, read the state, store the changes with what they
 * owe, publish, clear; then write when the pool is next due. A single pool and each pool of a fleet run the same way.
 */
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  ListUserImportJobsCommand,
  UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { nextRunAt } from './cadence';
import { Calls, Deadline, Log, PoolSubject, TIMEOUT_MARGIN_MS } from './calls';
import { JobChange, planChanges } from './changes';
import { mapWithConcurrency } from './concurrency';
import { Config } from './config';
import { sendJobEvents } from './events';
import { PublishedFigures, computeFigures, countWarnings, lastWarnedAt } from './figures';
import { checkJobs } from './job-check';
import { PAGE_SIZE, listAllJobs } from './listing';
import { publishMetrics, publishTrouble } from './metrics';
import { OutboxEntry, OwedCounts, isAnnounced, owedBy } from './outbox';
import { PoolState, PoolStateStore, StoreResult } from './state-store';

export interface RunDependencies {
  readonly cognito: CognitoIdentityProviderClient;
  readonly dynamodb: DynamoDBDocumentClient;
  /** Set when events are on. */
  readonly events?: EventBridgeClient;
  readonly config: Config;
  readonly now: Date;
  readonly log: Log;
  readonly deadline?: Deadline;
  /** The pool's name when already known (a fleet's discovery lists it), saving a DescribeUserPool. */
  readonly userPoolName?: string;
  /**
   * Whether the pool's first run with events on reads its name while it lists (firstRunPoolName): a single pool's, one
   * call; not a fleet's, whose first tick would spend a paced call on each of its pools.
   */
  readonly nameOnFirstRun?: boolean;
}

// A type, not an interface, so that it can be logged as a record of fields.
export type RunSummary = {
  readonly userPoolId: string;
  readonly jobs: number;
  /** Listed jobs left out, their listing making no sense (logged each with what was wrong). */
  readonly invalidJobs: number;
  readonly pages: number;
  readonly firstRun: boolean;
  readonly changesStored: number;
  readonly changesStoredElsewhere: number;
  /** Entries of the outbox this run published: its own, and those left by runs that ended before publishing. */
  readonly owedPublished: number;
  /** Of those, the ones left by an earlier run. */
  readonly leftoversPublished: number;
  readonly eventsSent: number;
  /** Entries still owed after this run: events the bus did not take, entries another run holds or this one could not take over. */
  readonly stillOwed: number;
  /** Listed, stored and published everything: what the tick's heartbeat says (1). */
  readonly complete: boolean;
  readonly figures: PublishedFigures;
};

// Parallel conditional writes: every bucket of a pool at once (16), and as many takeovers and clears.
const WRITE_CONCURRENCY = 16;
// How long a run holds what it stored when it has no Lambda context to say when it ends: Lambda's longest timeout.
const DEFAULT_LEASE_MS = 15 * 60_000;

/**
 * A pool's run, for a single pool and for each pool of a fleet alike: one run, then when the pool is next due (soon
 * while a job may still change or anything is still owed, after the schedule otherwise). A run that fails leaves
 * its due time passed, so that the next tick runs it again; a fleet follows a failed run up itself (fleet.ts).
 */
export async function runPool(deps: RunDependencies): Promise<RunSummary> {
  return run(deps, true);
}

/**
 * One run for one pool. Nothing is stored or published unless the listing is complete; then each change is
 * stored with a conditional write that also puts what it owes (its counts, its event) in the outbox. What this
 * run stored, and what runs that ended before publishing left, is published (events, then metrics), then cleared.
 */
export async function runOnce(deps: RunDependencies): Promise<RunSummary> {
  return run(deps, false);
}

/** A run, and, with `thenDue`, the write of when the pool is next due, once it worked (runPool). */
async function run(deps: RunDependencies, thenDue: boolean): Promise<RunSummary> {
  const { config, log } = deps;
  const calls = poolCalls(deps);
  const store = stateStore(deps);

  // The state is read while the pool is listed: reading it costs the run no time of its own.
  const reading = store.readState();
  reading.catch(() => undefined); // awaited below, or by payDebts when the listing fails
  // A pool's first run with events on reads the pool's name while it lists, and stores it with its jobs: the first
  // event a later run sends names the job's import log without a DescribeUserPool of its own on the way.
  const naming = reading.then((state) => (isFirstRun(state) ? firstRunPoolName(deps, calls, state.userPoolName) : undefined));
  naming.catch(() => undefined); // awaited below
  // Nothing of a failed listing can be published, but what earlier runs left owed can: it is not the listing's.
  const listing = await listPool(deps, calls).catch(async (error) => {
    await payDebts(deps, reading).catch((payError) => log.warn('Could not publish what earlier runs left owed; a later run will', { error: payError }));
    throw error;
  });
  const { pages } = listing;
  // A job whose listing makes no sense is left out of everything, and named: it blocks no other job, debt or heartbeat.
  const { valid: jobs, invalid } = checkJobs(listing.jobs, deps.now);
  for (const job of invalid) log.warn('Job left out: what was listed for it makes no sense', { ...job });

  const state = await reading;
  const { stored, marker, outbox } = state;
  const firstRun = isFirstRun(state);
  // The first run's cut-off between history and news is kept, so that a retry of a first run cut short keeps it,
  // rather than moving it on and filing a recent completion as history: on the pool's marker, written alongside the
  // first writes of jobs rather than before them, and on each bucket the first run writes, so that whichever lands
  // keeps it. A retry reads it from either (readState).
  const historyBefore = firstRun ? (marker?.historyBefore ?? new Date(deps.now.getTime() - config.scheduleMs).toISOString()) : undefined;
  const marking =
    firstRun && marker?.historyBefore === undefined
      ? store.markFirstRunStarted(historyBefore!).catch((error) => {
          // Kept by the buckets that land; if none does, the run fails, and its retry takes a cut-off of its own.
          log.warn("Could not store the first run's cut-off on the pool's marker; the buckets written keep it", { error });
        })
      : undefined;
  const plan = planChanges(jobs, stored, { historyBefore: historyBefore ? new Date(historyBefore) : undefined });
  for (const job of plan.unknownStatus) {
    log.warn('Job has a status the monitor does not know; it is left out of every metric', jobFields(job));
  }
  for (const job of plan.stale) {
    log.warn('Job is listed in an older state than the one stored; it is left alone', jobFields(job));
  }

  // This run holds what it stores until it ends; then, if it has not cleared it, the next run takes it over.
  const leaseUntil = leaseOf(deps);
  const events = config.eventBusName !== undefined;
  const userPoolName = (await naming) ?? (await poolNameIfNeeded(deps, calls, plan.changes, firstRun, state.userPoolName));
  const owedOptions = { userPoolId: config.userPoolId, events, firstRun, userPoolName };
  // A pool kept in one item that this run's changes would outgrow is spread over 16 buckets first, once.
  const split = store.outgrows(state, plan.changes, (change) => owedBy(change, owedOptions))
    ? await store.split(state, deps.now).catch((error) => {
        log.warn("Could not spread the pool's jobs over 16 buckets; a later run will", { error });
        return undefined;
      })
    : undefined;
  const current = split ?? state;
  // Each item that holds a change is written once, with every change of its jobs and what they owe.
  const writes = store.planWrites(current, plan.changes);
  const figuresOf = (owedCounts: OwedCounts[]): PublishedFigures => ({
    ...computeFigures(jobs, owedCounts),
    warnings: countWarnings(jobs, deps.now, config.warnings),
    lastWarnedAt: lastWarnedAt(jobs, deps.now, config.warnings),
    invalidJobs: invalid.length,
  });
  // A run with nothing to store, take over, publish or clear (a quiet pool's, most runs) has worked once it has
  // planned: when the pool is next due is written now, while it publishes its gauges, rather than after them.
  const quiet = thenDue && !firstRun && writes.length === 0 && outbox.length === 0 ? figuresOf([]) : undefined;
  const dueEarly = quiet && store.writeNextRunAt(nextRunAt(deps.now, quiet, config, false), deps.now);
  dueEarly?.catch(() => undefined); // awaited below
  const [taken, outcomes] = await Promise.all([
    takeOverLeftovers(deps, store, outbox, leaseUntil),
    mapWithConcurrency(writes, WRITE_CONCURRENCY, (write) =>
      store.storeBucket(current, write, (change) => owedBy(change, owedOptions), { leaseUntil, at: deps.now, historyBefore, userPoolName }),
    ),
    marking,
  ]);
  const { unclaimed } = taken;
  const due: OutboxEntry[] = [...taken.due];
  const leftoversPublished = due.length;
  const storedChanges: JobChange[] = [];
  const failedWrites: Error[] = [];
  let failedChanges = 0;
  outcomes.forEach((o: PromiseSettledResult<StoreResult>, i) => {
    const { changes } = writes[i];
    if (o.status === 'rejected') {
      failedWrites.push(o.reason);
      failedChanges += changes.length;
      for (const change of changes) log.error('Could not store a job change; the next run will count it', { ...jobFields(change.job), error: o.reason });
      if (changes.length === 0) log.warn('Could not take in the jobs stored before buckets; a later run will', { error: o.reason });
    } else if (o.value.stored) {
      storedChanges.push(...changes);
      due.push(...o.value.entries);
    }
  });
  // In the listing's order, whatever bucket each change went to: events are sent in calls, and lines logged, in that order.
  const order = new Map(plan.changes.map((change, i) => [change.job.JobId!, i]));
  const byListing = (a: { job: { JobId?: string } } | { jobId: string }, b: typeof a) =>
    order.get('job' in a ? a.job.JobId! : a.jobId)! - order.get('job' in b ? b.job.JobId! : b.jobId)!;
  storedChanges.sort(byListing);
  due.splice(leftoversPublished, due.length - leftoversPublished, ...due.slice(leftoversPublished).sort(byListing));

  inOneWrite(() => {
    for (const change of storedChanges) {
      if (isAnnounced(change, firstRun)) {
        log.info(change.completed ? 'Import job completed' : 'Import job status changed', {
          ...jobFields(change.job),
          previousStatus: change.previous?.status ?? null,
          status: change.next.status,
        });
      }
    }
  });

  // Items of the old layout (0.1.0) that their buckets now hold go, while the run publishes: a one-time cost.
  const [{ delivery, eventOwed, cutOff, figures }] = await Promise.all([
    publishOwed(deps, calls, store, due, quiet ? () => quiet : figuresOf),
    retireLegacy(deps, store, current),
  ]);

  const eventsOwed = due.filter(eventOwed).length;
  const cutOffError = cutOff && due.length > 0 ? new Error(`the run's deadline passed before it published ${due.length} owed entries`) : undefined;
  const failures = [...failedWrites, ...(delivery.error ? [delivery.error] : []), ...(cutOffError ? [cutOffError] : [])];
  const summary: RunSummary = {
    userPoolId: config.userPoolId,
    jobs: jobs.length,
    invalidJobs: invalid.length,
    pages,
    firstRun,
    changesStored: storedChanges.length,
    changesStoredElsewhere: plan.changes.length - storedChanges.length - failedChanges,
    owedPublished: cutOff ? 0 : due.length,
    leftoversPublished,
    eventsSent: delivery.sent.size,
    stillOwed: (cutOff ? due.length : eventsOwed) + (outbox.length - taken.leftovers) + unclaimed,
    complete: failures.length === 0 && unclaimed === 0,
    figures,
  };
  // A first run is marked as such after publishing what it stored: a first run cut short is still a first run, so
  // history is never counted as news, and a failed mark loses no count. When the pool is next due is written once
  // the run worked, after its clears (a run killed before them leaves the pool due soon, for the next to publish).
  // The two are independent writes, made at once.
  const nextDue = thenDue && !dueEarly && failures.length === 0 ? nextRunAt(deps.now, figures, config, summary.stillOwed > 0) : undefined;
  const [marked, cadence] = await Promise.allSettled([
    firstRun && failedWrites.length === 0 ? store.markFirstRunCompleted(historyBefore, deps.now) : undefined,
    dueEarly ?? (nextDue && store.writeNextRunAt(nextDue, deps.now)),
  ]);
  if (marked.status === 'rejected') {
    // The run fails: it leaves the pool due at once, as a run that fails before writing when it is next due does.
    if (nextDue && cadence.status === 'fulfilled') {
      await store.writeNextRunAt(deps.now, deps.now).catch((error) => log.warn('Could not leave the pool due at once after a failed first run', { error }));
    }
    throw marked.reason;
  }
  log.info('Run summary', summary);
  publishTrouble(config, deps.now, { invalidJobs: invalid.length, owedEntries: summary.stillOwed });
  if (delivery.error) {
    log.error('Could not send every job event; they stay owed, for a later run to send', { error: delivery.error });
  }
  if (failures.length > 0) {
    const pool = `for user pool ${config.userPoolId}`;
    const what = [
      failedWrites.length > 0 &&
        `could not store ${failedChanges} of ${plan.changes.length} job changes ${pool} (first: ${failedWrites[0].message}); ` +
          'they will be counted by the next run',
      delivery.error && `could not send ${eventsOwed} job events ${pool} (${delivery.error.message}); they stay owed`,
      cutOffError && `${cutOffError.message} ${pool}: a later run publishes them`,
    ].filter(Boolean);
    throw new AggregateError(failures, what.join('; '), { cause: failures[0] });
  }
  if (cadence.status === 'rejected') throw cadence.reason;
  return summary;
}

/** Every job of the pool, page by page (listing.ts). */
function listPool({ cognito, config }: RunDependencies, calls: Calls) {
  return listAllJobs(async (token, page) => {
    const answer = await calls.send(`ListUserImportJobs page ${page}`, (options) =>
      cognito.send(new ListUserImportJobsCommand({ UserPoolId: config.userPoolId, MaxResults: PAGE_SIZE, PaginationToken: token }), options),
    );
    return { jobs: answer.UserImportJobs ?? [], nextToken: answer.PaginationToken };
  });
}

/** Entries grouped by the write that put them in the outbox (item and attribute): taken over and cleared together. */
function byWrite(entries: readonly OutboxEntry[]): OutboxEntry[][] {
  const parcels = new Map<string, OutboxEntry[]>();
  for (const entry of entries) {
    const key = `${entry.item}\u0000${entry.attribute}`;
    const parcel = parcels.get(key);
    if (parcel) parcel.push(entry);
    else parcels.set(key, [entry]);
  }
  return [...parcels.values()];
}

/** Deletes the items of the old layout that buckets now hold; one that cannot go now is tried again by a later run. */
async function retireLegacy(deps: RunDependencies, store: PoolStateStore, state: PoolState): Promise<void> {
  if (state.legacy.size === 0) return;
  const { retired, failed } = await store.retireLegacy(state);
  if (retired > 0) deps.log.info('Deleted the items of jobs stored before buckets; their buckets hold them', { retired });
  if (failed.length > 0) {
    deps.log.warn('Could not delete some items of jobs stored before buckets; a later run will', { jobIds: failed.map((f) => f.jobId), error: failed[0].error });
  }
}

/** Until when a run holds what it stores: its end, or, without a Lambda context, Lambda's longest timeout. */
function leaseOf(deps: RunDependencies): string {
  return new Date(deps.deadline ? deps.deadline.at.getTime() + TIMEOUT_MARGIN_MS : deps.now.getTime() + DEFAULT_LEASE_MS).toISOString();
}

/**
 * Takes over what runs that ended before clearing it left in the outbox (their lease has ended), so that of two runs
 * that find an entry, one publishes it. An entry it cannot take over stays for a later run.
 */
async function takeOverLeftovers(
  deps: RunDependencies,
  store: PoolStateStore,
  outbox: readonly OutboxEntry[],
  leaseUntil: string,
): Promise<{ due: OutboxEntry[]; unclaimed: number; leftovers: number }> {
  const leftovers = outbox.filter((entry) => entry.leaseUntil <= deps.now.toISOString());
  const parcels = byWrite(leftovers);
  const claims = await mapWithConcurrency(parcels, WRITE_CONCURRENCY, (parcel) => store.takeOver(parcel, leaseUntil));
  const due: OutboxEntry[] = [];
  let unclaimed = 0;
  claims.forEach((claim, i) => {
    if (claim.status === 'fulfilled' && claim.value) due.push(...claim.value);
    else if (claim.status === 'rejected') {
      unclaimed += parcels[i].length;
      deps.log.warn('Could not take over what an earlier run left unpublished; a later run will', {
        jobIds: parcels[i].map((entry) => entry.jobId),
        error: claim.reason,
      });
    }
  });
  return { due, unclaimed, leftovers: leftovers.length };
}

/**
 * Publishes what is owed, events first, then metrics (`figuresOf` the counts published), then clears it: a run killed
 * in between leaves the entries to the next, which publishes them again; so a duplicate needs a kill between
 * publishing and clearing. A run past its deadline can clear nothing (each call is cut off at once): counts it
 * published now would be published again by the run that takes its entries over, so it leaves them all to that run.
 */
async function publishOwed(
  deps: RunDependencies,
  calls: Calls,
  store: PoolStateStore,
  due: readonly OutboxEntry[],
  figuresOf: (owed: OwedCounts[]) => PublishedFigures,
) {
  const { config, log } = deps;
  const events = config.eventBusName !== undefined;
  const delivery = events ? await sendJobEvents({ client: deps.events!, name: config.eventBusName! }, calls, log, due) : { sent: new Set<OutboxEntry>() };
  const eventOwed = (entry: OutboxEntry) => events && entry.event !== undefined && !delivery.sent.has(entry);
  const cutOff = deps.deadline?.signal.aborted === true;
  const publishing = cutOff ? [] : due;
  const figures = figuresOf(publishing.flatMap((entry) => (entry.counts ? [entry.counts] : [])));
  publishMetrics(deps.config, deps.now, figures);
  // One clear per write whose entries were published: unless all that is left of them is events still owed.
  const toClear = byWrite(publishing).filter((parcel) => parcel.some((entry) => entry.counts !== undefined || !eventOwed(entry)));
  const clears = await mapWithConcurrency(toClear, WRITE_CONCURRENCY, (parcel) => store.clear(parcel, eventOwed));
  clears.forEach((clear, i) => {
    if (clear.status === 'rejected') {
      log.warn('Published, but could not clear it from the outbox; a run after this one ends publishes it again', {
        jobIds: toClear[i].map((entry) => entry.jobId),
        eventKeys: toClear[i].flatMap((entry) => (entry.event ? [entry.event.eventKey] : [])),
        error: clear.reason,
      });
    }
  });
  return { delivery, eventOwed, cutOff, figures };
}

/**
 * Publishes what earlier runs left owed, without a listing: when the pool cannot be listed (deleted, access revoked),
 * or has left a fleet, its debts are still paid. Only the counts owed are published, no gauge. Returns the entries
 * still owed after it (taken by no run, or their events refused).
 */
export async function payDebts(deps: RunDependencies, reading?: Promise<PoolState>): Promise<number> {
  const calls = poolCalls(deps);
  const store = stateStore(deps);
  const { outbox } = await (reading ?? store.readState());
  const taken = await takeOverLeftovers(deps, store, outbox, leaseOf(deps));
  if (taken.due.length === 0) return outbox.length;
  const noWarnings = { awaitingStart: 0, stuck: 0 };
  const { eventOwed } = await publishOwed(deps, calls, store, taken.due, (owed) => ({ ...computeFigures([], owed), warnings: noWarnings, invalidJobs: 0 }));
  const stillOwed = outbox.length - taken.due.length + taken.due.filter(eventOwed).length;
  deps.log.info('Published what earlier runs left owed, without a listing', { entries: taken.due.length, stillOwed });
  publishTrouble(deps.config, deps.now, { invalidJobs: 0, owedEntries: stillOwed });
  return stillOwed;
}

/**
 * The pool's name, when an event to be sent names a job's own import log (`/aws/cognito/userpools/<id>/<name>`): the
 * fleet's discovery's, or the one a run stored with the pool's jobs (a pool's name cannot change: the first run reads
 * it while it lists, firstRunPoolName), or else read now (and then stored with the changes); left out of the events,
 * with a warning, when it cannot be read.
 */
async function poolNameIfNeeded(
  deps: RunDependencies,
  calls: Calls,
  changes: readonly JobChange[],
  firstRun: boolean,
  stored: string | undefined,
): Promise<string | undefined> {
  const needed = deps.config.eventBusName && changes.some((change) => change.job.CloudWatchLogsRoleArn && isAnnounced(change, firstRun));
  if (!needed) return undefined;
  if (deps.userPoolName !== undefined) return deps.userPoolName;
  if (stored !== undefined) return stored;
  try {
    return await describePoolName(deps, calls);
  } catch (error) {
    deps.log.warn("Could not read the pool's name; events leave out where the job's import log is", { error });
    return undefined;
  }
}

/** Whether no run of the pool has completed its first run yet: its listing is history, not news. */
function isFirstRun(state: PoolState): boolean {
  return state.marker?.firstRunCompletedAt === undefined;
}

/** The pool's name read by a first run with events on, unless known; undefined when it cannot be (read again when needed). */
async function firstRunPoolName(deps: RunDependencies, calls: Calls, stored: string | undefined): Promise<string | undefined> {
  if (!deps.nameOnFirstRun || !deps.config.eventBusName || deps.userPoolName !== undefined || stored !== undefined) return undefined;
  return describePoolName(deps, calls).catch(() => undefined);
}

async function describePoolName(deps: RunDependencies, calls: Calls): Promise<string | undefined> {
  const answer = await calls.send('DescribeUserPool', (options) =>
    deps.cognito.send(new DescribeUserPoolCommand({ UserPoolId: deps.config.userPoolId }), options),
  );
  return answer.UserPool?.Name;
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

/**
 * Runs `log`, its lines going out to stdout in one write rather than one each: a run that stores a thousand changes
 * logs a line for each, and a write each took most of their time.
 */
function inOneWrite(log: () => void): void {
  process.stdout.cork();
  try {
    log();
  } finally {
    process.stdout.uncork();
  }
}

/** The calls of a pool's run: for that pool, under the run's deadline. */
function poolCalls(deps: RunDependencies): Calls<PoolSubject> {
  return new Calls({ userPoolId: deps.config.userPoolId }, deps.deadline);
}

/** The pool's items in the state table, read and written with the calls of its run. */
export function stateStore(deps: RunDependencies): PoolStateStore {
  return new PoolStateStore({ client: deps.dynamodb, tableName: deps.config.tableName }, poolCalls(deps), deps.config.singleItemBytes);
}
