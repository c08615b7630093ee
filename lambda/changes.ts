/**
 * Change detection, free of I/O: which listed jobs are newer than their stored state, and what each change counts.
 * Every function takes what it needs as parameters, so tests drive it directly.
 */
import type { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';
import { CompletedStatus, JobStatus, isCompletedStatus, isJobStatus } from '../lib/contract';

/** What the state table holds for one job: its status and user counters when last stored. */
export interface JobState {
  readonly status: JobStatus;
  readonly importedUsers: number;
  readonly skippedUsers: number;
  readonly failedUsers: number;
}

/** A stored job state: a job's state as the last run that stored it saw it. */
export type StoredJobState = JobState;

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

/**
 * The later of two stored states of one job, as far as listings tell: the status further on, or with the same status,
 * each counter at its highest (counters only grow). A job's state moves forward, so the later state is the one the
 * counts have reached: what the old layout and the new one each stored, merged, counts nothing twice.
 */
export function laterState(a: JobState, b: JobState): JobState {
  if (RANK[a.status] !== RANK[b.status] || a.status !== b.status) return RANK[b.status] > RANK[a.status] ? b : a;
  return {
    status: a.status,
    importedUsers: Math.max(a.importedUsers, b.importedUsers),
    skippedUsers: Math.max(a.skippedUsers, b.skippedUsers),
    failedUsers: Math.max(a.failedUsers, b.failedUsers),
  };
}

/** Whether two job states are the same. */
export function sameState(a: JobState, b: JobState): boolean {
  return a.status === b.status && a.importedUsers === b.importedUsers && a.skippedUsers === b.skippedUsers && a.failedUsers === b.failedUsers;
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
