/**
 * The monitor's logic, free of I/O: listing bookkeeping, change detection and the figures to publish.
 * Every function takes what it needs (including `now`) as parameters, so tests drive it directly.
 */
import type { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';
import {
  COMPLETED_STATUSES,
  CompletedStatus,
  JOB_STATUSES,
  JobStatus,
  isCompletedStatus,
  isJobStatus,
} from '../lib/contract';

/** Cognito's largest accepted `MaxResults`; a page still holds at most 50 jobs. */
export const PAGE_SIZE = 60;

/** A page of `ListUserImportJobs`, reduced to what the monitor reads. */
export interface JobPage {
  readonly jobs: readonly UserImportJobType[];
  readonly nextToken?: string;
}

/** The listing stopped before its end: publishing from it would report wrong numbers. */
export class IncompleteListingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteListingError';
  }
}

/**
 * Lists every job of a pool, following `PaginationToken` to the end, asking for pages 1, 2, ... in turn.
 * A token that comes back a second time would loop for ever (or skip pages): it fails the listing instead.
 * A job seen on two pages (the list shifted under us) is kept once, as last seen.
 */
export async function listAllJobs(fetchPage: (token: string | undefined, page: number) => Promise<JobPage>): Promise<{
  jobs: UserImportJobType[];
  pages: number;
}> {
  const byId = new Map<string, UserImportJobType>();
  const seenTokens = new Set<string>();
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(token, pages + 1);
    pages++;
    for (const job of page.jobs) {
      if (job.JobId) byId.set(job.JobId, job);
    }
    token = page.nextToken || undefined;
    if (token !== undefined) {
      if (seenTokens.has(token)) {
        throw new IncompleteListingError(
          `ListUserImportJobs returned pagination token ${JSON.stringify(token)} twice (after ${pages} pages, ${byId.size} jobs)`,
        );
      }
      seenTokens.add(token);
    }
  } while (token !== undefined);
  return { jobs: [...byId.values()], pages };
}

/** What the state table holds for one job: its status and user counters when last stored. */
export interface JobState {
  readonly status: JobStatus;
  readonly importedUsers: number;
  readonly skippedUsers: number;
  readonly failedUsers: number;
}

/** A stored job state, with the version its conditional write is checked against. */
export interface StoredJobState extends JobState {
  readonly version: number;
}

export interface UserCounts {
  readonly importedUsers: number;
  readonly skippedUsers: number;
  readonly failedUsers: number;
}

/** A job whose listed state is newer than the stored one: to be stored, then counted. */
export interface JobChange {
  readonly job: UserImportJobType;
  readonly previous?: StoredJobState;
  readonly next: JobState;
  /** The status the job entered since the previous run, if it is a completed one. */
  readonly completed?: CompletedStatus;
  /** Users newly counted by the job since the previous run. */
  readonly newUsers: UserCounts;
}

export interface ChangePlan {
  readonly changes: JobChange[];
  /** Jobs whose status is not one of the documented ones: left out, state untouched. */
  readonly unknownStatus: UserImportJobType[];
  /** Jobs listed in an older state than stored (an overlapping run stored a newer listing). */
  readonly stale: UserImportJobType[];
}

export interface PlanOptions {
  /**
   * Set on a first run only (no complete run stored for the pool yet): jobs that completed before it are
   * history, stored as the baseline and counted in nothing.
   */
  readonly historyBefore?: Date;
}

// Statuses only move forward: Created -> Pending -> InProgress -> Stopping -> a completed status
// (Created can also go straight to Expired). A listing that moves a job backwards is older than the state.
const RANK: Record<JobStatus, number> = {
  Created: 0,
  Pending: 1,
  InProgress: 2,
  Stopping: 3,
  Expired: 4,
  Stopped: 4,
  Failed: 4,
  Succeeded: 4,
};

function stateOf(job: UserImportJobType & { Status: JobStatus }): JobState {
  return {
    status: job.Status,
    importedUsers: job.ImportedUsers ?? 0,
    skippedUsers: job.SkippedUsers ?? 0,
    failedUsers: job.FailedUsers ?? 0,
  };
}

const NO_USERS: UserCounts = { importedUsers: 0, skippedUsers: 0, failedUsers: 0 };

/** Compares the listing with the stored state and says which jobs changed, and what each change counts. */
export function planChanges(
  jobs: readonly UserImportJobType[],
  stored: ReadonlyMap<string, StoredJobState>,
  options: PlanOptions,
): ChangePlan {
  const changes: JobChange[] = [];
  const unknownStatus: UserImportJobType[] = [];
  const stale: UserImportJobType[] = [];

  for (const job of jobs) {
    if (!isJobStatus(job.Status)) {
      unknownStatus.push(job);
      continue;
    }
    const next = stateOf(job as UserImportJobType & { Status: JobStatus });
    const previous = stored.get(job.JobId!);

    if (previous === undefined) {
      // On the first run, a job that completed before the last schedule period is history: it is stored
      // as the baseline and counts nothing, so deploying onto an old pool pages nobody.
      const history =
        options.historyBefore !== undefined &&
        isCompletedStatus(next.status) &&
        (job.CompletionDate === undefined || job.CompletionDate < options.historyBefore);
      changes.push(
        history
          ? { job, next, newUsers: NO_USERS }
          : { job, next, completed: isCompletedStatus(next.status) ? next.status : undefined, newUsers: next },
      );
      continue;
    }

    const rankDelta = RANK[next.status] - RANK[previous.status];
    const statusChanged = next.status !== previous.status;
    const countersGrew =
      next.importedUsers > previous.importedUsers ||
      next.skippedUsers > previous.skippedUsers ||
      next.failedUsers > previous.failedUsers;
    const countersShrank =
      next.importedUsers < previous.importedUsers ||
      next.skippedUsers < previous.skippedUsers ||
      next.failedUsers < previous.failedUsers;
    if (!statusChanged && !countersGrew && !countersShrank) continue;
    // A status further on is newer whatever its counters say; with the same status, shrunk counters are older.
    if (rankDelta < 0 || (statusChanged && rankDelta === 0) || (!statusChanged && countersShrank)) {
      stale.push(job);
      continue;
    }
    changes.push({
      job,
      previous,
      next,
      completed: statusChanged && isCompletedStatus(next.status) ? next.status : undefined,
      newUsers: {
        importedUsers: Math.max(0, next.importedUsers - previous.importedUsers),
        skippedUsers: Math.max(0, next.skippedUsers - previous.skippedUsers),
        failedUsers: Math.max(0, next.failedUsers - previous.failedUsers),
      },
    });
  }
  return { changes, unknownStatus, stale };
}

/** The figures one run publishes, zeros included. */
export interface RunFigures {
  readonly jobs: Record<JobStatus, number>;
  readonly jobsCompleted: Record<CompletedStatus, number>;
  readonly newUsers: UserCounts;
}

/** The counts a stored change owes to the metrics: the status it completed in, if any, and its new users. */
export interface OwedCounts {
  readonly completed?: CompletedStatus;
  readonly newUsers: UserCounts;
}

/**
 * Gauges come from the whole listing; transitions and user counts from what is owed and published now: the
 * changes this run stored (a change stored by another run is counted there, not twice), and those that runs
 * killed or failed before publishing left in the state table.
 */
export function computeFigures(jobs: readonly UserImportJobType[], owed: readonly OwedCounts[]): RunFigures {
  const jobCounts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const job of jobs) {
    if (isJobStatus(job.Status)) jobCounts[job.Status]++;
  }
  const completed = Object.fromEntries(COMPLETED_STATUSES.map((s) => [s, 0])) as Record<CompletedStatus, number>;
  const users = { importedUsers: 0, skippedUsers: 0, failedUsers: 0 };
  for (const counts of owed) {
    if (counts.completed) completed[counts.completed]++;
    users.importedUsers += counts.newUsers.importedUsers;
    users.skippedUsers += counts.newUsers.skippedUsers;
    users.failedUsers += counts.newUsers.failedUsers;
  }
  return { jobs: jobCounts, jobsCompleted: completed, newUsers: users };
}

/** The `detail` of a job's state change event: the README's "Job events" documents each field. */
export interface JobStateChangeDetail {
  readonly eventKey: string;
  readonly userPoolId: string;
  readonly jobId: string;
  readonly jobName?: string;
  readonly previousStatus: JobStatus | null;
  readonly status: JobStatus;
  readonly importedUsers: number;
  readonly skippedUsers: number;
  readonly failedUsers: number;
  readonly completionMessage?: string;
  readonly creationDate?: string;
  readonly startDate?: string;
  readonly completionDate?: string;
  readonly importLog?: { readonly logGroupName: string; readonly logStreamName: string };
}

/** What a stored change owes until it is published: counts for the metrics, an event for the bus, or both. */
export interface Owed {
  readonly counts?: OwedCounts;
  readonly event?: JobStateChangeDetail;
}

export interface OwedOptions {
  readonly userPoolId: string;
  /** False when events are switched off. */
  readonly events: boolean;
  /** A first run announces only what it counts: the rest is the baseline, perhaps a thousand old jobs. */
  readonly firstRun: boolean;
  /** The pool's name, for the location of a job's own import log; left out when unknown. */
  readonly userPoolName?: string;
}

/** Whether a change is a status change to announce (and log): a first run's baseline is not. */
export function isAnnounced(change: JobChange, firstRun: boolean): boolean {
  const baseline = firstRun && change.previous === undefined && !change.completed;
  return change.next.status !== change.previous?.status && !baseline;
}

/** What a change owes once stored, or undefined when it owes nothing (a first run's history, say). */
export function owedBy(change: JobChange, options: OwedOptions): Owed | undefined {
  const { newUsers } = change;
  const counted = change.completed !== undefined || newUsers.importedUsers + newUsers.skippedUsers + newUsers.failedUsers > 0;
  const counts = counted ? { completed: change.completed, newUsers } : undefined;
  const event = options.events && isAnnounced(change, options.firstRun) ? eventDetail(change, options) : undefined;
  return counts || event ? { counts, event } : undefined;
}

function eventDetail(change: JobChange, options: OwedOptions): JobStateChangeDetail {
  const { job, next } = change;
  const logs = job.CloudWatchLogsRoleArn && options.userPoolName !== undefined;
  return {
    eventKey: `${options.userPoolId}/${job.JobId}/${next.status}`,
    userPoolId: options.userPoolId,
    jobId: job.JobId!,
    jobName: job.JobName,
    previousStatus: change.previous?.status ?? null,
    status: next.status,
    importedUsers: next.importedUsers,
    skippedUsers: next.skippedUsers,
    failedUsers: next.failedUsers,
    completionMessage: job.CompletionMessage,
    creationDate: job.CreationDate?.toISOString(),
    startDate: job.StartDate?.toISOString(),
    completionDate: job.CompletionDate?.toISOString(),
    importLog: logs
      ? { logGroupName: `/aws/cognito/userpools/${options.userPoolId}/${options.userPoolName}`, logStreamName: `${job.JobId}/${job.JobName}` }
      : undefined,
  };
}

/** How often a pool is listed: every `activeMs` while a job may still change, every `idleMs` otherwise. */
export interface Cadence {
  readonly activeMs: number;
  readonly idleMs: number;
}

// A job in one of these may still end: Created ones expire, the others fail or succeed.
const UNFINISHED: readonly JobStatus[] = ['Created', 'Pending', 'InProgress', 'Stopping'];

/**
 * When the pool should next be listed, from what this run found: while any job is unfinished, soon, so that
 * its end is published within one active interval; when none is, after the schedule the user chose. While anything
 * is still owed (an event the bus refused), soon too.
 */
export function nextRunAt(now: Date, figures: RunFigures, cadence: Cadence, owing = false): Date {
  const unfinished = UNFINISHED.some((status) => figures.jobs[status] > 0);
  return new Date(now.getTime() + (unfinished || owing ? cadence.activeMs : cadence.idleMs));
}

/**
 * Whether a scheduled tick should list the pool. Ticks come every `cadence.activeMs`, a little early or late; a
 * run due up to half a tick (at most 30 s) from now is run now, rather than a whole tick late. A due time that is
 * not a date, or further off than the schedule (stored under a longer one), is not believed.
 */
export function isDue(now: Date, next: Date | undefined, cadence: Cadence): boolean {
  if (next === undefined || Number.isNaN(next.getTime())) return true;
  const wait = next.getTime() - now.getTime();
  return wait <= Math.min(30_000, cadence.activeMs / 2) || wait > cadence.idleMs;
}

/** How long a job may wait before the monitor warns: in `Created`, and in `Pending`, `InProgress` or `Stopping`. */
export interface WarningLimits {
  readonly awaitingStartMs: number;
  readonly stuckMs: number;
}

/** Jobs that will be lost, or may be stuck, if nobody acts: gauges, counted afresh by every run. */
export interface Warnings {
  /** Created longer ago than the limit and not started: Cognito deletes such a job 24 to 48 hours after creation. */
  readonly awaitingStart: number;
  /** Pending, in progress or stopping for longer than the limit, counted from the start (or creation). */
  readonly stuck: number;
}

const RUNNING: readonly string[] = ['Pending', 'InProgress', 'Stopping'];

export function countWarnings(jobs: readonly UserImportJobType[], now: Date, limits: WarningLimits): Warnings {
  const olderThan = (date: Date | undefined, ms: number) => date !== undefined && now.getTime() - date.getTime() > ms;
  let awaitingStart = 0;
  let stuck = 0;
  for (const job of jobs) {
    if (job.Status === 'Created' && olderThan(job.CreationDate, limits.awaitingStartMs)) awaitingStart++;
    if (RUNNING.includes(job.Status ?? '') && olderThan(job.StartDate ?? job.CreationDate, limits.stuckMs)) stuck++;
  }
  return { awaitingStart, stuck };
}
