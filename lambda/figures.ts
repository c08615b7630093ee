/**
 * The figures a run publishes, free of I/O: the gauges of the listing, the counts of what is owed, and the warnings
 * of jobs that will be lost or may be stuck. Every function takes `now` as a parameter.
 */
import type { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';
import { COMPLETED_STATUSES, CompletedStatus, JOB_STATUSES, JobStatus, isJobStatus } from '../lib/contract';
import { UserCounts } from './changes';
import { OwedCounts } from './outbox';

/** The figures one run publishes, zeros included. */
export interface RunFigures {
  readonly jobs: Record<JobStatus, number>;
  readonly jobsCompleted: Record<CompletedStatus, number>;
  readonly newUsers: UserCounts;
  /** Failed users of the jobs that ended `Succeeded` or `Stopped` (`FailedUsersOfEndedJobs`). */
  readonly failedUsersOfEndedJobs: number;
}

/**
 * Gauges come from the whole listing; transitions and user counts from what is owed and published now: the
 * changes this run stored (a change stored by another run is counted there, not twice), and those that runs
 * killed or failed before publishing left in the state table.
 */
export function computeFigures(jobs: readonly UserImportJobType[], owed: readonly OwedCounts[]): RunFigures {
  const jobCounts = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as Record<JobStatus, number>;
  for (const job of jobs) if (isJobStatus(job.Status)) jobCounts[job.Status]++;
  const completed = Object.fromEntries(COMPLETED_STATUSES.map((s) => [s, 0])) as Record<CompletedStatus, number>;
  const users = { importedUsers: 0, skippedUsers: 0, failedUsers: 0 };
  let failedUsersOfEndedJobs = 0;
  for (const counts of owed) {
    failedUsersOfEndedJobs += counts.failedUsersAtEnd ?? 0;
    if (counts.completed) completed[counts.completed]++;
    users.importedUsers += counts.newUsers.importedUsers;
    users.skippedUsers += counts.newUsers.skippedUsers;
    users.failedUsers += counts.newUsers.failedUsers;
  }
  return { jobs: jobCounts, jobsCompleted: completed, newUsers: users, failedUsersOfEndedJobs };
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

/**
 * Until when a listed job was last past a warning limit in its state (`now` while one is): a job waiting in `Created`
 * until it started or ended, a job running until it ended. A single pool publishes its warning gauges' zeros for a while
 * after it, so that the warning alarm the job raised clears (metrics.ts). Undefined when no listed job ever was.
 */
export function lastWarnedAt(jobs: readonly UserImportJobType[], now: Date, limits: WarningLimits): Date | undefined {
  let latest: number | undefined;
  const warned = (from: number | undefined, until: number) => {
    if (from !== undefined && until > from && !(latest! >= until)) latest = until;
  };
  for (const job of jobs) {
    const [created, started, ended] = [job.CreationDate?.getTime(), job.StartDate?.getTime(), job.CompletionDate?.getTime()];
    if (job.Status === 'Created') warned(created === undefined ? undefined : created + limits.awaitingStartMs, now.getTime());
    else warned(created === undefined ? undefined : created + limits.awaitingStartMs, started ?? ended ?? now.getTime());
    const start = started ?? created;
    if (job.Status !== 'Created' && start !== undefined) warned(start + limits.stuckMs, RUNNING.includes(job.Status ?? '') ? now.getTime() : (ended ?? now.getTime()));
  }
  return latest === undefined ? undefined : new Date(latest);
}

/** What a run publishes: its counts, the gauges that warn before a job is lost, and the jobs it left out. */
export type PublishedFigures = RunFigures & { readonly warnings: Warnings; readonly invalidJobs: number; readonly lastWarnedAt?: Date };
