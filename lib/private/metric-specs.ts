/** The monitor's metrics, one row each: its name, its statistic, and its `Status` values if it has that dimension. */
import {
  COMPLETED_STATUSES,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_FAILED_USERS_OF_ENDED_JOBS,
  METRIC_HEARTBEAT,
  METRIC_INVALID_JOBS,
  METRIC_OWED_ENTRIES,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_AWAITING_START,
  METRIC_JOBS_COMPLETED,
  METRIC_JOBS_STUCK,
  METRIC_POOLS_MONITORED,
  METRIC_POOL_RUNS_FAILED,
  METRIC_SKIPPED_USERS,
} from '../contract';

export interface MetricSpec {
  readonly metricName: string;
  /** The statistic that makes sense: a count is summed, a gauge's largest value is kept. */
  readonly fn: 'SUM' | 'MAX';
  /** The statuses of its `Status` dimension, for the metrics that have one. */
  readonly statuses?: readonly string[];
}

/** Every metric, by the name its accessors carry (`metricJobs`, `metricFleetJobs`). */
export const METRICS = {
  Jobs: { metricName: METRIC_JOBS, fn: 'MAX', statuses: JOB_STATUSES },
  JobsCompleted: { metricName: METRIC_JOBS_COMPLETED, fn: 'SUM', statuses: COMPLETED_STATUSES },
  ImportedUsers: { metricName: METRIC_IMPORTED_USERS, fn: 'SUM' },
  SkippedUsers: { metricName: METRIC_SKIPPED_USERS, fn: 'SUM' },
  FailedUsers: { metricName: METRIC_FAILED_USERS, fn: 'SUM' },
  FailedUsersOfEndedJobs: { metricName: METRIC_FAILED_USERS_OF_ENDED_JOBS, fn: 'SUM' },
  JobsAwaitingStart: { metricName: METRIC_JOBS_AWAITING_START, fn: 'MAX' },
  JobsStuck: { metricName: METRIC_JOBS_STUCK, fn: 'MAX' },
  InvalidJobs: { metricName: METRIC_INVALID_JOBS, fn: 'MAX' },
  OwedEntries: { metricName: METRIC_OWED_ENTRIES, fn: 'MAX' },
  PoolRunsFailed: { metricName: METRIC_POOL_RUNS_FAILED, fn: 'MAX' },
  Heartbeat: { metricName: METRIC_HEARTBEAT, fn: 'SUM' },
  PoolsMonitored: { metricName: METRIC_POOLS_MONITORED, fn: 'MAX' },
} satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof METRICS;

/** What an alarm watches: a metric per pool, and the `Status` it is restricted to, if any. */
export interface PoolQuery {
  readonly metric: MetricKey;
  readonly status?: string;
}
