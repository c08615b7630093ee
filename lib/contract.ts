/**
 * The names the construct, the handler and the tests share. Only `ImportJobStatus` is exported from the
 * package; the rest is internal, but the names are the metrics' contract all the same: changing one
 * breaks every dashboard and alarm built on it.
 *
 * This file must stay free of aws-cdk-lib imports: the handler bundle includes it.
 */

/** The status of a Cognito user import job; each value is the status name Cognito returns. */
export enum ImportJobStatus {
  /** Created, not started yet; it turns `Expired` if nobody starts it within 24 to 48 hours. */
  CREATED = 'Created',
  /** Started, waiting its turn. */
  PENDING = 'Pending',
  /** Importing users. */
  IN_PROGRESS = 'InProgress',
  /** Being stopped. */
  STOPPING = 'Stopping',
  /** Ended: created and never started in time. Its CSV data is deleted. */
  EXPIRED = 'Expired',
  /** Ended: stopped by a user. */
  STOPPED = 'Stopped',
  /** Ended: its import failed. */
  FAILED = 'Failed',
  /** Ended: every user was imported, skipped or failed individually. */
  SUCCEEDED = 'Succeeded',
}

/** The statuses of a user import job, as documented in the Cognito API reference. */
export const JOB_STATUSES = [
  'Created',
  'Pending',
  'InProgress',
  'Stopping',
  'Expired',
  'Stopped',
  'Failed',
  'Succeeded',
] as const satisfies readonly `${ImportJobStatus}`[];

export type JobStatus = (typeof JOB_STATUSES)[number];

/** The statuses a job ends in; Cognito sets `CompletionDate` when a job enters one of them. */
export const COMPLETED_STATUSES = ['Succeeded', 'Failed', 'Stopped', 'Expired'] as const satisfies readonly JobStatus[];

export type CompletedStatus = (typeof COMPLETED_STATUSES)[number];

/** The statuses of a job that may still change: `Created` ones expire, the others fail or succeed. */
export const UNFINISHED_STATUSES = ['Created', 'Pending', 'InProgress', 'Stopping'] as const satisfies readonly JobStatus[];

/** The namespace metrics go to unless `metricNamespace` says otherwise. */
export const DEFAULT_METRIC_NAMESPACE = 'Cognito/UserImportJobs';

export const METRIC_JOBS = 'Jobs';
export const METRIC_JOBS_COMPLETED = 'JobsCompleted';
export const METRIC_IMPORTED_USERS = 'ImportedUsers';
export const METRIC_SKIPPED_USERS = 'SkippedUsers';
export const METRIC_FAILED_USERS = 'FailedUsers';
/**
 * The `FailedUsers` of a job that ended `Succeeded` or `Stopped`, published once, at its end, when not zero: users
 * left out of an import that otherwise went through (a `Failed` job is the failed jobs alarm's).
 */
export const METRIC_FAILED_USERS_OF_ENDED_JOBS = 'FailedUsersOfEndedJobs';
/**
 * One from each scheduled tick: 1 when it worked (the run listed every job, stored every change and published, or
 * the pool was not due), 0 when it failed. Its absence, or zeros, mean the monitor is broken (not running,
 * failing, or failing to store), whatever the gauges say.
 */
export const METRIC_HEARTBEAT = 'Heartbeat';
/**
 * Listed jobs that fail the handler's check (an ID that is not one, a count that is not a safe integer from 0, a date
 * out of range): left out of every other metric, and logged with what was wrong.
 */
export const METRIC_INVALID_JOBS = 'InvalidJobs';
/**
 * Outbox entries a run leaves owed (an event the bus refused, an entry no run could take over), published only when
 * not zero: a debt that stays is one the operator should hear of.
 */
export const METRIC_OWED_ENTRIES = 'OwedEntries';
/** Jobs in `Created` for longer than the warning limit: Cognito deletes them 24 to 48 hours after creation. */
export const METRIC_JOBS_AWAITING_START = 'JobsAwaitingStart';
/** Jobs in `Pending`, `InProgress` or `Stopping` for longer than the warning limit. */
export const METRIC_JOBS_STUCK = 'JobsStuck';

export const DIMENSION_USER_POOL_ID = 'UserPoolId';
export const DIMENSION_STATUS = 'Status';

/** Environment variables the construct sets and the handler reads. */
export const ENV_USER_POOL_ID = 'USER_POOL_ID';
export const ENV_STATE_TABLE_NAME = 'STATE_TABLE_NAME';
export const ENV_METRIC_NAMESPACE = 'METRIC_NAMESPACE';
export const ENV_SCHEDULE_SECONDS = 'SCHEDULE_SECONDS';
/** How often to list while a job is unfinished; the rule ticks at this rate. */
export const ENV_ACTIVE_SCHEDULE_SECONDS = 'ACTIVE_SCHEDULE_SECONDS';
/** Warning limits: how long a job may wait in `Created`, and run, before it is counted as awaiting start or stuck. */
export const ENV_AWAITING_START_SECONDS = 'AWAITING_START_SECONDS';
export const ENV_STUCK_SECONDS = 'STUCK_SECONDS';
/**
 * A single pool's: how long after a job's end its runs still publish the warning gauges' zeros, so that a warning the
 * job raised clears (the warning alarms' evaluation range, and a schedule).
 */
export const ENV_WARNING_ZEROS_SECONDS = 'WARNING_ZEROS_SECONDS';

/** Key attributes of the state table: one item per job, under its pool. */
export const TABLE_PARTITION_KEY = 'UserPoolId';
export const TABLE_SORT_KEY = 'JobId';
/**
 * Sort key of the item that marks a pool as seen by a complete run. Job IDs start with `import-`,
 * so it can never clash with one.
 */
export const POOL_MARKER_SORT_KEY = '#pool';

// A pool ID is its region, an underscore and letters and digits (API model: [\w-]+_[0-9a-zA-Z]+, at most 55
// characters), e.g. eu-west-1_AbC123, us-gov-west-1_AbC123, eusc-de-east-1_AbC123.
const USER_POOL_ID_PATTERN = /^([a-z]{2,4}(?:-[a-z]+)+-\d{1,2})_[0-9a-zA-Z]+$/;

/**
 * The region a user pool ID names, or undefined when the value is not a user pool ID. The construct checks
 * the ID with it at synth and the handler at run time, so that the two accept the same pools.
 */
export function userPoolRegion(id: string): string | undefined {
  const match = USER_POOL_ID_PATTERN.exec(id);
  return match && id.length <= 55 ? match[1] : undefined;
}

export function isJobStatus(value: string | undefined): value is JobStatus {
  return (JOB_STATUSES as readonly (string | undefined)[]).includes(value);
}

export function isCompletedStatus(value: string | undefined): value is CompletedStatus {
  return (COMPLETED_STATUSES as readonly (string | undefined)[]).includes(value);
}

/**
 * The event bus the handler sends per-job events to, by ARN; unset when the user switched events off.
 * The handler sends each job's status change there (see `EVENT_SOURCE`, `EVENT_DETAIL_TYPE`).
 */
export const ENV_EVENT_BUS_NAME = 'EVENT_BUS_NAME';
/** `source` of the per-job events. */
export const EVENT_SOURCE = 'import-job-monitor';
/** `detail-type` of the per-job events. */
export const EVENT_DETAIL_TYPE = 'Cognito User Import Job State Change';

/**
 * Fleets: one monitor for many pools. `USER_POOL_IDS` lists them (comma-separated); `DISCOVER_USER_POOLS` asks
 * the function to list every pool of its account and region on each tick (`ListUserPools`), as JSON
 * `{"include": [...], "exclude": [...]}` of patterns matched against a pool's ID and its name (`*` matches any
 * run of characters). Exactly one of `USER_POOL_ID`, `USER_POOL_IDS` and `DISCOVER_USER_POOLS` is set.
 */
export const ENV_USER_POOL_IDS = 'USER_POOL_IDS';
/**
 * Instead of `USER_POOL_IDS` when the list does not fit in the function's environment (Lambda's limit is 4 KB for
 * every variable together): the name of a JSON file beside the handler bundle holding the array of pool IDs.
 */
export const ENV_USER_POOL_IDS_FILE = 'USER_POOL_IDS_FILE';
export const ENV_DISCOVER_USER_POOLS = 'DISCOVER_USER_POOLS';
/** Cognito calls a second at most, per region, across a fleet's pools (default 10). */
export const ENV_COGNITO_REQUESTS_PER_SECOND = 'COGNITO_REQUESTS_PER_SECOND';
/** The fleet's name, the `Monitor` dimension of its fleet-wide metrics: unique per namespace, account and region. */
export const ENV_MONITOR_NAME = 'MONITOR_NAME';
export const DIMENSION_MONITOR = 'Monitor';
/**
 * A fleet publishes only what carries news: per pool, `JobsCompleted`, the user counts, `JobsAwaitingStart`,
 * `JobsStuck` and the `Jobs` gauges only when not zero (and, while a job is in flight, the zeros its alarms watch),
 * and `PoolRunsFailed` for a pool whose run failed: how many of its runs in a row have failed. Per fleet, with the
 * `Monitor` dimension: `Heartbeat` (1 per tick that listed its pools and read when each is due, 0 for a tick that
 * failed before) and `PoolsMonitored` (the pools the tick knew of).
 */
export const METRIC_POOL_RUNS_FAILED = 'PoolRunsFailed';
/**
 * A fleet's pool that no longer exists (ResourceNotFoundException) fails this many runs in a row, enough for the
 * PoolRunsFailed alarm to page once; then it is listed every schedule without counting as failed.
 */
export const GONE_POOL_REPORTED_RUNS = 10;
export const METRIC_POOLS_MONITORED = 'PoolsMonitored';
/** `detail-type` of the event a fleet sends when one pool's run failed (best effort, not kept in the outbox). */
export const EVENT_DETAIL_TYPE_POOL_RUN_FAILED = 'Cognito User Import Monitor Pool Run Failed';
/**
 * Partition of the items that say when each pool is next due to be listed (`NextRunAt`), one per pool (sort key:
 * the pool ID), so that a fleet reads them all with one query. Pool IDs never start with `#`.
 */
export const CADENCE_PARTITION = '#cadence';
