/**
 * The outbox, free of I/O: what a stored change owes until it is published (its counts for the metrics, its event
 * for the bus), and the entry that carries it on the job's item.
 */
import { CompletedStatus, JobStatus } from '../lib/contract';
import { JobChange, UserCounts } from './changes';

/**
 * The counts a stored change owes to the metrics: the status it completed in, if any, its new users, and, for a job
 * that ended `Succeeded` or `Stopped` with failed users, their number (absent when none, and in older entries).
 */
export interface OwedCounts {
  readonly completed?: CompletedStatus;
  readonly newUsers: UserCounts;
  readonly failedUsersAtEnd?: number;
}

/** The `detail` of a job's state change event: docs/events.md documents each field. */
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
  const endedWithFailures = (change.completed === 'Succeeded' || change.completed === 'Stopped') && change.next.failedUsers > 0;
  const counts = counted
    ? { completed: change.completed, newUsers, ...(endedWithFailures ? { failedUsersAtEnd: change.next.failedUsers } : {}) }
    : undefined;
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

/**
 * An entry of the outbox: what one stored change owes, kept on the item that holds the job's state, in the write that
 * stored the change, until it is published. The entries of one write share an attribute and a token: they are taken
 * over and cleared together. Whoever holds the token publishes them; a run killed or failed before it cleared them
 * leaves them to the first run after `leaseUntil`, the end of the run that holds them.
 */
export interface OutboxEntry {
  readonly jobId: string;
  /** The sort key of the item that holds it: the job's bucket, or (written before buckets) the job's own item. */
  readonly item: string;
  /** Where the state store keeps it on that item, one for each write that stored changes there. */
  readonly attribute: string;
  readonly token: string;
  readonly leaseUntil: string;
  /** When the change was stored: the event's time. */
  readonly at: string;
  readonly counts?: OwedCounts;
  readonly event?: JobStateChangeDetail;
}
