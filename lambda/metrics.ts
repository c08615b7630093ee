/** What a run publishes, as CloudWatch embedded metric format. */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
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
  METRIC_SKIPPED_USERS,
  isCompletedStatus,
} from '../lib/contract';
import {
  RunFigures,
  Warnings,
} from './logic';
import { Config } from './config';

/** What a run publishes: its counts, and the gauges that warn before a job is lost. */
export type PublishedFigures = RunFigures & { readonly warnings: Warnings };

/**
 * Writes the run's figures as embedded metric format: one record per status (Jobs, and JobsCompleted
 * for the completed statuses), one for the user counts. 15 metrics per pool, whatever the number of jobs.
 */
export function publishMetrics(config: Config, now: Date, figures: PublishedFigures): void {
  const metrics = new Metrics({ namespace: config.namespace });
  // Powertools adds a `service` dimension by default; the contract is UserPoolId (and Status) only.
  metrics.clearDefaultDimensions();
  for (const status of JOB_STATUSES) {
    metrics.setTimestamp(now);
    metrics.addDimensions({ [DIMENSION_USER_POOL_ID]: config.userPoolId, [DIMENSION_STATUS]: status });
    metrics.addMetric(METRIC_JOBS, MetricUnit.Count, figures.jobs[status]);
    if (isCompletedStatus(status)) {
      metrics.addMetric(METRIC_JOBS_COMPLETED, MetricUnit.Count, figures.jobsCompleted[status]);
    }
    metrics.publishStoredMetrics();
  }
  metrics.setTimestamp(now);
  metrics.addDimension(DIMENSION_USER_POOL_ID, config.userPoolId);
  metrics.addMetric(METRIC_IMPORTED_USERS, MetricUnit.Count, figures.newUsers.importedUsers);
  metrics.addMetric(METRIC_SKIPPED_USERS, MetricUnit.Count, figures.newUsers.skippedUsers);
  metrics.addMetric(METRIC_FAILED_USERS, MetricUnit.Count, figures.newUsers.failedUsers);
  metrics.addMetric(METRIC_JOBS_AWAITING_START, MetricUnit.Count, figures.warnings.awaitingStart);
  metrics.addMetric(METRIC_JOBS_STUCK, MetricUnit.Count, figures.warnings.stuck);
  metrics.publishStoredMetrics();
}

/** Says that this run listed, stored and published everything: the last thing a complete run writes. */
export function publishHeartbeat(config: Config, now: Date): void {
  const metrics = new Metrics({ namespace: config.namespace });
  metrics.clearDefaultDimensions();
  metrics.setTimestamp(now);
  metrics.addDimension(DIMENSION_USER_POOL_ID, config.userPoolId);
  metrics.addMetric(METRIC_HEARTBEAT, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
}
