/** The monitor's dashboard widgets: a pool's metrics, or a fleet's queries with a series per pool. */
import { Aws, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import {
  COMPLETED_STATUSES,
  ImportJobStatus,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_COMPLETED,
  METRIC_POOL_RUNS_FAILED,
  METRIC_SKIPPED_USERS,
} from '../contract';
import { InsightsQuery } from './insights';
import { MetricFactory } from './metric-factory';
import { MonitoredPools } from './pools';

/** The metric accessors the graphs draw; the construct is one. */
export interface MetricSource {
  metricJobs(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricJobsCompleted(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricImportedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricSkippedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  metricFailedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** What the widgets need of a monitor. */
export interface WidgetSource {
  readonly userPoolId: string;
  /** A single pool's region (the stack's when its ID is a token); a fleet's header names `fleet.regions` instead. */
  readonly userPoolRegion: string;
  readonly logGroupName: string;
  readonly alarms: cloudwatch.IAlarm[];
  readonly metrics: MetricSource;
  /** A fleet's: its graphs are Metrics Insights queries with a series per pool. */
  readonly fleet?: FleetWidgetSource;
}

/** What a fleet's widgets need besides. */
export interface FleetWidgetSource {
  readonly monitorName: string;
  /** Which pools, in a line of markdown. */
  readonly pools: string;
  /** The pools' regions (tokens for the stack's). */
  readonly regions: string[];
  /** The query as a graph's metric, with the monitor's namespace and period. */
  query(q: InsightsQuery, label?: string): cloudwatch.IMetric;
  readonly poolsMonitored: cloudwatch.IMetric;
}

const IN_FLIGHT = [ImportJobStatus.CREATED, ImportJobStatus.PENDING, ImportJobStatus.IN_PROGRESS, ImportJobStatus.STOPPING];

/** The fields of the handler's transition log lines that the table shows, in its order. */
export const TRANSITION_FIELDS = [
  'jobId',
  'jobName',
  'previousStatus',
  'status',
  'importedUsers',
  'skippedUsers',
  'failedUsers',
  'completionMessage',
];

/** What the widgets draw of a monitor: its pools, its metrics (`monitor`'s accessors), its alarms and its logs. */
export function widgetSource(
  pools: MonitoredPools,
  metrics: MetricFactory,
  monitor: MetricSource,
  alarms: cloudwatch.IAlarm[],
  logGroupName: string,
): WidgetSource {
  return {
    userPoolId: pools.userPoolId ?? '',
    userPoolRegion: pools.regions[0],
    logGroupName,
    alarms,
    metrics: monitor,
    fleet: pools.monitorName === undefined ? undefined : {
      monitorName: pools.monitorName,
      pools: pools.summary,
      regions: pools.regions,
      query: (q: InsightsQuery, label?: string) => metrics.insights(q, { label }),
      poolsMonitored: metrics.ownMetric('PoolsMonitored'),
    },
  };
}

/** Every widget: the header, the alarms' status, jobs in flight, counts per period and the latest transitions. */
export function dashboardWidgets(source: WidgetSource): cloudwatch.IWidget[] {
  if (source.fleet) {
    return [fleetHeaderWidget(source), ...alarmWidgets(source), fleetInFlightWidget(source), ...fleetCountWidgets(source),
      fleetPoolsWidget(source), transitionsWidget(source)];
  }
  return [headerWidget(source), ...alarmWidgets(source), inFlightWidget(source), ...countWidgets(source), transitionsWidget(source)];
}

/** The widgets for a summary dashboard: the header, the alarms' status and the jobs in flight. */
export function summaryWidgets(source: WidgetSource): cloudwatch.IWidget[] {
  if (source.fleet) return [fleetHeaderWidget(source), ...alarmWidgets(source), fleetInFlightWidget(source)];
  return [headerWidget(source), ...alarmWidgets(source), inFlightWidget(source)];
}

function headerWidget(source: WidgetSource): cloudwatch.IWidget {
  const region = source.userPoolRegion;
  const cognitoConsole = `https://${region}.console.aws.amazon.com`;
  const logsRegion = Aws.REGION;
  return new cloudwatch.TextWidget({
    markdown:
      `### Cognito user import jobs: ${source.userPoolId}\n` +
      `[User pool in the Cognito console](${cognitoConsole}/cognito/v2/idp/user-pools/${source.userPoolId}/users?region=${region})` +
      ` · [Monitor's log group](https://${logsRegion}.console.aws.amazon.com/cloudwatch/home?region=${logsRegion}` +
      `#logsV2:log-groups/log-group/${source.logGroupName}) · Cognito's import logs: ` +
      `\`/aws/cognito/userpools/${source.userPoolId}/<pool name>\`, stream \`<job ID>/<job name>\``,
    width: 24,
    height: 2,
  });
}

/** A fleet's header: its name, which pools, and links to its pools, its log group and Cognito's import logs. */
function fleetHeaderWidget(source: WidgetSource): cloudwatch.IWidget {
  const fleet = source.fleet!;
  const logsRegion = Aws.REGION;
  const consoles = fleet.regions
    .map((region) => `[User pools in ${region}](https://${region}.console.aws.amazon.com/cognito/v2/idp/user-pools?region=${region})`)
    .join(' · ');
  return new cloudwatch.TextWidget({
    markdown:
      `### Cognito user import jobs: fleet ${fleet.monitorName}\n` +
      `Pools: ${fleet.pools}. ${consoles} · [Monitor's log group](https://${logsRegion}.console.aws.amazon.com/cloudwatch/home?region=` +
      `${logsRegion}#logsV2:log-groups/log-group/${source.logGroupName}) · Cognito's import logs: ` +
      '`/aws/cognito/userpools/<pool ID>/<pool name>`, stream `<job ID>/<job name>`. The graphs draw a line per pool with news: ' +
      'a fleet publishes no zeros.',
    width: 24,
    height: 3,
  });
}

export function alarmWidgets(source: WidgetSource): cloudwatch.IWidget[] {
  if (source.alarms.length === 0) return [];
  return [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: source.alarms, width: 24, height: 2 })];
}

/**
 * Jobs in flight. A pool publishes a status's gauge only while it is not zero, every run (every `activeSchedule`,
 * as a job in flight keeps the pool due), so a period without a datapoint had no such job: FILL(m, 0), a quiet pool
 * reads as zeros rather than a gap. (REPEAT, as before, would carry a job's last count on after it left the status.)
 */
function inFlightWidget(source: WidgetSource): cloudwatch.IWidget {
  return new cloudwatch.GraphWidget({
    title: 'Jobs in flight',
    left: IN_FLIGHT.map((status, i) => filled(`jobs${i}`, '0', status, source.metrics.metricJobs(status))),
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
}

/** Counts per period: a period with no datapoint had nothing happen in it, so FILL(0). */
function countWidgets(source: WidgetSource): cloudwatch.IWidget[] {
  const completed = new cloudwatch.GraphWidget({
    title: 'Jobs completed',
    left: COMPLETED_STATUSES.map((status, i) =>
      filled(`completed${i}`, '0', status, source.metrics.metricJobsCompleted(status as ImportJobStatus)),
    ),
    leftYAxis: { min: 0, showUnits: false },
    stacked: true,
    width: 8,
  });
  const users = new cloudwatch.GraphWidget({
    title: 'Users',
    left: [
      filled('imported', '0', 'Imported', source.metrics.metricImportedUsers()),
      filled('skipped', '0', 'Skipped', source.metrics.metricSkippedUsers()),
      filled('failed', '0', 'Failed', source.metrics.metricFailedUsers()),
    ],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  return [completed, users];
}

const IN_FLIGHT_STATUSES: readonly string[] = IN_FLIGHT;

/** A fleet's jobs in flight: a line per pool and status, for the pools with jobs in flight only. */
function fleetInFlightWidget(source: WidgetSource): cloudwatch.IWidget {
  const ended = JOB_STATUSES.filter((status) => !IN_FLIGHT_STATUSES.includes(status));
  return new cloudwatch.GraphWidget({
    title: 'Jobs in flight, by pool and status',
    left: [
      source.fleet!.query({ fn: 'MAX', metricName: METRIC_JOBS, withStatus: true, excludeStatuses: ended, byPool: true, byStatus: true }),
    ],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
}

/** A fleet's counts per period: jobs completed by pool and status, users over the fleet, failed users by pool. */
function fleetCountWidgets(source: WidgetSource): cloudwatch.IWidget[] {
  const fleet = source.fleet!;
  const total = (metricName: string, label: string) => fleet.query({ fn: 'SUM', metricName, withStatus: false, byPool: false }, label);
  const completed = new cloudwatch.GraphWidget({
    title: 'Jobs completed, by pool and status',
    left: [fleet.query({ fn: 'SUM', metricName: METRIC_JOBS_COMPLETED, withStatus: true, byPool: true, byStatus: true })],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  const users = new cloudwatch.GraphWidget({
    title: 'Users, all pools',
    left: [total(METRIC_IMPORTED_USERS, 'Imported'), total(METRIC_SKIPPED_USERS, 'Skipped'), total(METRIC_FAILED_USERS, 'Failed')],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  const failedUsers = new cloudwatch.GraphWidget({
    title: 'Failed users, by pool',
    left: [fleet.query({ fn: 'SUM', metricName: METRIC_FAILED_USERS, withStatus: false, byPool: true })],
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
  return [completed, users, failedUsers];
}

/** A fleet's pools: how many each tick knew of, and the failed runs of each pool. */
function fleetPoolsWidget(source: WidgetSource): cloudwatch.IWidget {
  const fleet = source.fleet!;
  return new cloudwatch.GraphWidget({
    title: 'Pools monitored, and failed runs by pool',
    left: [fleet.poolsMonitored],
    right: [fleet.query({ fn: 'SUM', metricName: METRIC_POOL_RUNS_FAILED, withStatus: false, byPool: true })],
    leftYAxis: { min: 0, showUnits: false, label: 'Pools' },
    rightYAxis: { min: 0, showUnits: false, label: 'Failed runs' },
    width: 16,
  });
}

function transitionsWidget(source: WidgetSource): cloudwatch.IWidget {
  // A fleet's log lines carry the pool too.
  const fields = source.fleet ? ['userPoolId', ...TRANSITION_FIELDS] : TRANSITION_FIELDS;
  return new cloudwatch.LogQueryWidget({
    title: 'Latest job transitions',
    logGroupNames: [source.logGroupName],
    view: cloudwatch.LogQueryVisualizationType.TABLE,
    queryLines: [
      `fields @timestamp, ${fields.join(', ')}`,
      'filter message = "Import job completed" or message = "Import job status changed"',
      'sort @timestamp desc',
      'limit 50',
    ],
    width: 24,
    height: 8,
  });
}

/** `FILL(metric, fill)` under the metric's label; ids must be unique within one graph. */
function filled(id: string, fill: string, label: string, metric: cloudwatch.Metric): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({ expression: `FILL(${id}, ${fill})`, label, usingMetrics: { [id]: metric }, period: metric.period });
}
