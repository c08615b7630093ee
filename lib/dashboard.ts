import { Aws, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { COMPLETED_STATUSES, ImportJobStatus } from './contract';

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
  /** The pool's region, or a token for the stack's. */
  readonly userPoolRegion: string;
  readonly logGroupName: string;
  readonly alarms: cloudwatch.IAlarm[];
  readonly metrics: MetricSource;
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

export function headerWidget(source: WidgetSource): cloudwatch.IWidget {
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

export function alarmWidgets(source: WidgetSource): cloudwatch.IWidget[] {
  if (source.alarms.length === 0) return [];
  return [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: source.alarms, width: 24, height: 2 })];
}

/**
 * Jobs in flight. A gauge has no datapoint in a period without a run: FILL(REPEAT) carries the last count on,
 * so that a quiet period reads as "unchanged", not as a gap or a zero.
 */
export function inFlightWidget(source: WidgetSource): cloudwatch.IWidget {
  return new cloudwatch.GraphWidget({
    title: 'Jobs in flight',
    left: IN_FLIGHT.map((status, i) => filled(`jobs${i}`, 'REPEAT', status, source.metrics.metricJobs(status))),
    leftYAxis: { min: 0, showUnits: false },
    width: 8,
  });
}

/** Counts per period: a period with no datapoint had nothing happen in it, so FILL(0). */
export function countWidgets(source: WidgetSource): cloudwatch.IWidget[] {
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

export function transitionsWidget(source: WidgetSource): cloudwatch.IWidget {
  return new cloudwatch.LogQueryWidget({
    title: 'Latest job transitions',
    logGroupNames: [source.logGroupName],
    view: cloudwatch.LogQueryVisualizationType.TABLE,
    queryLines: [
      `fields @timestamp, ${TRANSITION_FIELDS.join(', ')}`,
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
