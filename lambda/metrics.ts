/** Every metric the handler publishes, a pool's and a fleet's, as CloudWatch embedded metric format. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DIMENSION_MONITOR,
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_HEARTBEAT,
  METRIC_JOBS_AWAITING_START,
  METRIC_JOBS_STUCK,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_COMPLETED,
  METRIC_POOLS_MONITORED,
  METRIC_POOL_RUNS_FAILED,
  METRIC_SKIPPED_USERS,
  isCompletedStatus,
} from '../lib/contract';
import type { Config } from './config';
import { PublishedFigures } from './figures';

/**
 * Writes the run's figures as embedded metric format: one record per status (Jobs, and JobsCompleted for the
 * completed statuses), one for the user counts and warnings. A single pool publishes all 15 metrics every run,
 * zeros included; a fleet's pool (`sparseMetrics`) only those that are not zero (and of the gauges, only those of
 * jobs in flight), so that a quiet pool costs nothing.
 */
export function publishMetrics(config: Config, now: Date, figures: PublishedFigures): void {
  const metrics = new Metrics({ namespace: config.namespace });
  // Powertools adds a `service` dimension by default; the contract is UserPoolId (and Status) only.
  metrics.clearDefaultDimensions();
  const add = (name: string, value: number): number => {
    if (config.sparseMetrics && value === 0) return 0;
    metrics.addMetric(name, MetricUnit.Count, value);
    return 1;
  };
  for (const status of JOB_STATUSES) {
    // A fleet's ended jobs stay listed for ever: their gauges never go back to zero, and nothing of a fleet's reads
    // them, so a fleet's pool publishes the gauges of jobs in flight only.
    let added = config.sparseMetrics && isCompletedStatus(status) ? 0 : add(METRIC_JOBS, figures.jobs[status]);
    if (isCompletedStatus(status)) added += add(METRIC_JOBS_COMPLETED, figures.jobsCompleted[status]);
    if (added > 0) publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId, [DIMENSION_STATUS]: status });
  }
  const added =
    add(METRIC_IMPORTED_USERS, figures.newUsers.importedUsers) +
    add(METRIC_SKIPPED_USERS, figures.newUsers.skippedUsers) +
    add(METRIC_FAILED_USERS, figures.newUsers.failedUsers) +
    add(METRIC_JOBS_AWAITING_START, figures.warnings.awaitingStart) +
    add(METRIC_JOBS_STUCK, figures.warnings.stuck);
  if (added > 0) publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId });
}

/** Writes the metrics added so far as one record, with these dimensions and this time. */
function publish(metrics: Metrics, now: Date, dimensions: Record<string, string>): void {
  metrics.setTimestamp(now);
  metrics.addDimensions(dimensions);
  metrics.publishStoredMetrics();
}

/** Says that this run listed, stored and published everything: the last thing a complete run writes. */
export function publishHeartbeat(config: Config, now: Date): void {
  const metrics = new Metrics({ namespace: config.namespace });
  metrics.clearDefaultDimensions();
  metrics.addMetric(METRIC_HEARTBEAT, MetricUnit.Count, 1);
  publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId });
}

/**
 * A fleet's own metrics: `PoolRunsFailed` (1) for each pool whose run failed, and, with the monitor's name as
 * dimension, the pools known and the heartbeat (1 when the fleet works: see runFleet).
 */
export function publishFleetMetrics(
  namespace: string,
  monitor: string,
  now: Date,
  pools: number,
  failed: readonly { readonly userPoolId: string }[],
  working: boolean,
): void {
  const metrics = new Metrics({ namespace });
  metrics.clearDefaultDimensions();
  for (const { userPoolId } of failed) {
    metrics.addMetric(METRIC_POOL_RUNS_FAILED, MetricUnit.Count, 1);
    publish(metrics, now, { [DIMENSION_USER_POOL_ID]: userPoolId });
  }
  metrics.addMetric(METRIC_POOLS_MONITORED, MetricUnit.Count, pools);
  if (working) metrics.addMetric(METRIC_HEARTBEAT, MetricUnit.Count, 1);
  publish(metrics, now, { [DIMENSION_MONITOR]: monitor });
}
