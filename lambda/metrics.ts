/** Every metric the handler publishes, a pool's and a fleet's, as CloudWatch embedded metric format. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_FAILED_USERS_OF_ENDED_JOBS,
  METRIC_HEARTBEAT,
  METRIC_INVALID_JOBS,
  METRIC_OWED_ENTRIES,
  METRIC_JOBS_AWAITING_START,
  METRIC_JOBS_STUCK,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_COMPLETED,
  METRIC_POOLS_MONITORED,
  METRIC_POOL_RUNS_FAILED,
  METRIC_SKIPPED_USERS,
  UNFINISHED_STATUSES,
  isCompletedStatus,
} from '../lib/contract';
import type { Config } from './config';
import { PublishedFigures } from './figures';

/**
 * Writes the run's figures as embedded metric format: one record per status (Jobs, and JobsCompleted for the
 * completed statuses), one for the user counts and warnings. A single pool publishes all 18 metrics every run,
 * zeros included. A fleet's pool (`sparseMetrics`) publishes only those that are not zero (and of the gauges, only
 * those of jobs in flight), so that a quiet pool costs nothing; but while it has a job in flight it also publishes
 * the zeros of the series its alarms watch, so that each exists before the job ends: a Metrics Insights alarm may
 * not see a series in the minutes after its first datapoint, and would miss a failure that were one.
 */
export function publishMetrics(config: Config, now: Date, figures: PublishedFigures): void {
  const metrics = contractMetrics(config.namespace);
  const inFlight = UNFINISHED_STATUSES.some((status) => figures.jobs[status] > 0);
  const add = (name: string, value: number, watched = false): number => {
    if (config.sparseMetrics && value === 0 && !(watched && inFlight)) return 0;
    metrics.addMetric(name, MetricUnit.Count, value);
    return 1;
  };
  for (const status of JOB_STATUSES) {
    // A fleet's ended jobs stay listed for ever: their gauges never go back to zero, and nothing of a fleet's reads
    // them, so a fleet's pool publishes the gauges of jobs in flight only.
    let added = config.sparseMetrics && isCompletedStatus(status) ? 0 : add(METRIC_JOBS, figures.jobs[status]);
    if (isCompletedStatus(status)) added += add(METRIC_JOBS_COMPLETED, figures.jobsCompleted[status], ALARMED_COMPLETIONS.includes(status));
    if (added > 0) publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId, [DIMENSION_STATUS]: status });
  }
  const added =
    add(METRIC_IMPORTED_USERS, figures.newUsers.importedUsers) +
    add(METRIC_SKIPPED_USERS, figures.newUsers.skippedUsers) +
    add(METRIC_FAILED_USERS, figures.newUsers.failedUsers) +
    add(METRIC_FAILED_USERS_OF_ENDED_JOBS, figures.failedUsersOfEndedJobs, true) +
    add(METRIC_JOBS_AWAITING_START, figures.warnings.awaitingStart, true) +
    add(METRIC_JOBS_STUCK, figures.warnings.stuck, true);
  if (added > 0) publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId });
}

// The completions an alarm watches (JobFailed, JobExpired); with the three `watched` above, every series a pool's
// alarm reads (test/pages.test.ts holds them to the alarms).
const ALARMED_COMPLETIONS: readonly string[] = ['Failed', 'Expired'];

/**
 * What a run could not do, only when not zero, single pool and fleet alike (a healthy pool pays no metric for it):
 * `InvalidJobs`, listed jobs it left out, and `OwedEntries`, what it leaves owed (events the bus refused, entries no
 * run could take over), which a later run pays.
 */
export function publishTrouble(config: Pick<Config, 'namespace' | 'userPoolId'>, now: Date, trouble: { invalidJobs: number; owedEntries: number }): void {
  const metrics = contractMetrics(config.namespace);
  if (trouble.invalidJobs > 0) metrics.addMetric(METRIC_INVALID_JOBS, MetricUnit.Count, trouble.invalidJobs);
  if (trouble.owedEntries > 0) metrics.addMetric(METRIC_OWED_ENTRIES, MetricUnit.Count, trouble.owedEntries);
  if (trouble.invalidJobs > 0 || trouble.owedEntries > 0) publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId });
}

/** Metrics to the namespace, with the contract's dimensions only: Powertools adds a `service` dimension by default. */
function contractMetrics(namespace: string): Metrics {
  const metrics = new Metrics({ namespace });
  metrics.clearDefaultDimensions();
  return metrics;
}

/** Writes the metrics added so far as one record, with these dimensions and this time. */
function publish(metrics: Metrics, now: Date, dimensions: Record<string, string>): void {
  metrics.setTimestamp(now);
  metrics.addDimensions(dimensions);
  metrics.publishStoredMetrics();
}

/**
 * The tick's heartbeat: 1 when it worked, 0 when it failed. A single pool's (dimension `UserPoolId`) worked when its
 * run listed, stored and published everything, or the pool was not due; a fleet's (dimension `Monitor`, `pools`
 * given as `PoolsMonitored`) when it listed its pools, ran them, kept up and could store how they went (runFleet).
 * Every tick sends one, so that a monitor that stops ticking, or fails every tick, is seen within minutes whatever
 * the schedule; and a monitor never run sends none, so a new alarm starts quiet.
 */
export function publishHeartbeat(namespace: string, dimensions: Record<string, string>, now: Date, worked: boolean, pools?: number): void {
  const metrics = contractMetrics(namespace);
  metrics.addMetric(METRIC_HEARTBEAT, MetricUnit.Count, worked ? 1 : 0);
  if (pools !== undefined) metrics.addMetric(METRIC_POOLS_MONITORED, MetricUnit.Count, pools);
  publish(metrics, now, dimensions);
}

/** A fleet's `PoolRunsFailed` for each pool whose run failed: how many of its runs in a row have failed (1, 2, 3...). */
export function publishPoolRunsFailed(namespace: string, now: Date, failed: readonly { readonly userPoolId: string; readonly failedRuns: number }[]): void {
  const metrics = contractMetrics(namespace);
  for (const { userPoolId, failedRuns } of failed) {
    metrics.addMetric(METRIC_POOL_RUNS_FAILED, MetricUnit.Count, failedRuns);
    publish(metrics, now, { [DIMENSION_USER_POOL_ID]: userPoolId });
  }
}
