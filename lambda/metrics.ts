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
 * completed statuses), one for the user counts and warnings. CloudWatch bills a series for every hour it receives a
 * datapoint in, so a pool publishes only what carries news, a single pool and a fleet's alike:
 * counts and gauges that are not zero, and of the `Jobs` gauges only those of jobs in flight (an ended job stays
 * listed for ever, so those gauges never fall back to zero, and no alarm or graph reads them). A quiet pool sends
 * nothing here. Besides, zeros of the series its alarms watch:
 *
 * - a fleet's pool, while a job is in flight, so that each series exists before the job ends (a fleet's Metrics
 *   Insights alarm may not see a series in the minutes after its first datapoint, and would miss a failure that were
 *   one). A single pool's alarms are plain metric alarms, those on counts treating missing data as not breaching: they
 *   need no zeros;
 * - a single pool's warning gauges (`JobsAwaitingStart`, `JobsStuck`, whose alarms keep their state when data is
 *   missing), in every run for `warningZerosMs` after a listed job was last past a warning limit (`lastWarnedAt`), the
 *   warning alarms' evaluation range and a schedule: the warning it raised is cleared by zeros, as it was when every
 *   run sent them; and in `publishWarningZeros`'s run (the deployment's), so that a new pool's warnings start OK. A job
 *   that never passed a limit raised no warning, and needs no zeros.
 */
export function publishMetrics(config: Config, now: Date, figures: PublishedFigures): void {
  const metrics = contractMetrics(config.namespace);
  const inFlight = UNFINISHED_STATUSES.some((status) => figures.jobs[status] > 0);
  // A single pool's, which alone has warningZerosMs; a fleet's pool's otherwise.
  const single = config.warningZerosMs !== undefined;
  const warnedLately = figures.lastWarnedAt !== undefined && now.getTime() - figures.lastWarnedAt.getTime() <= (config.warningZerosMs ?? 0);
  const countZeros = !single && inFlight;
  const gaugeZeros = (single ? warnedLately : inFlight) || config.publishWarningZeros === true;
  const add = (name: string, value: number, watched: 'count' | 'gauge' | false = false): number => {
    if (value === 0 && !((watched === 'count' && countZeros) || (watched === 'gauge' && gaugeZeros))) return 0;
    metrics.addMetric(name, MetricUnit.Count, value);
    return 1;
  };
  for (const status of JOB_STATUSES) {
    let added = isCompletedStatus(status) ? 0 : add(METRIC_JOBS, figures.jobs[status]);
    if (isCompletedStatus(status)) added += add(METRIC_JOBS_COMPLETED, figures.jobsCompleted[status], ALARMED_COMPLETIONS.includes(status) && 'count');
    if (added > 0) publish(metrics, now, { [DIMENSION_USER_POOL_ID]: config.userPoolId, [DIMENSION_STATUS]: status });
  }
  const added =
    add(METRIC_IMPORTED_USERS, figures.newUsers.importedUsers) +
    add(METRIC_SKIPPED_USERS, figures.newUsers.skippedUsers) +
    add(METRIC_FAILED_USERS, figures.newUsers.failedUsers) +
    add(METRIC_FAILED_USERS_OF_ENDED_JOBS, figures.failedUsersOfEndedJobs, 'count') +
    add(METRIC_JOBS_AWAITING_START, figures.warnings.awaitingStart, 'gauge') +
    add(METRIC_JOBS_STUCK, figures.warnings.stuck, 'gauge');
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
