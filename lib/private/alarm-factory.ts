/** Makes every row of the alarm table into an alarm, for a single pool and a fleet alike, with the actions given. */
import { Annotations, Duration, Token, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ENV_WARNING_ZEROS_SECONDS } from '../contract';
import { ImportJobMonitorProps } from '../props';
import { ALARM_SPECS, AlarmKey, AlarmSpec, Cadence } from './alarm-specs';
import { DescriptionContext, fitDescription } from './descriptions';
import { MetricFactory } from './metric-factory';
import { MonitoredPools } from './pools';
import { ResolvedAlarmOptions, resolveAlarmOptions, validateHealthAgainstCadence } from './validate';

/** One alarm of the table with its options resolved, and whether it is switched on. */
export interface PlannedAlarm {
  readonly spec: AlarmSpec;
  readonly options: ResolvedAlarmOptions;
  readonly enabled: boolean;
}

/**
 * Every alarm's options with their defaults, checked, switched on or off, before anything is made: options of an
 * alarm switched off must be valid all the same.
 */
export function planAlarms(props: ImportJobMonitorProps, pools: MonitoredPools, cadence: Cadence): PlannedAlarm[] {
  return ALARM_SPECS.filter((spec) => pools.fleet || !spec.fleetOnly).map((spec) => {
    const given = props[spec.optionsProp];
    const options = resolveAlarmOptions(spec.optionsProp, given, spec.defaults(cadence, given));
    if (spec.watches === 'silence') validateHealthAgainstCadence(options, cadence.activeSchedule);
    else pools.checkAlarmOptions(spec.optionsProp, options);
    const enabled = given?.enabled ?? (spec.enableProp !== undefined ? props[spec.enableProp] : undefined) ?? true;
    return { spec, options, enabled };
  });
}

export interface AlarmFactoryProps {
  readonly props: ImportJobMonitorProps;
  readonly pools: MonitoredPools;
  readonly metrics: MetricFactory;
  readonly alarmNamePrefix: string;
  readonly context: DescriptionContext;
}

/** The alarms switched on, in the table's order, by key. */
export function createAlarms(scope: Construct, planned: PlannedAlarm[], f: AlarmFactoryProps): Map<AlarmKey, cloudwatch.Alarm> {
  const descriptions = f.pools.descriptions(f.context);
  const made = new Map<AlarmKey, cloudwatch.Alarm>();
  for (const { spec, options, enabled } of planned) {
    if (!enabled) continue;
    const watches = spec.watches;
    const silence = watches === 'silence';
    const alarm = new cloudwatch.Alarm(scope, spec.id, {
      alarmName: `${f.alarmNamePrefix}-${spec.suffix}`,
      alarmDescription: fitDescription(spec.id, descriptions[spec.key]!(options), f.context),
      metric: watches === 'silence'
        // FILL: a period without a heartbeat counts as 0, so that silence breaches in every period it lasts.
        ? new cloudwatch.MathExpression({
          expression: 'FILL(heartbeat, 0)',
          usingMetrics: { heartbeat: f.metrics.ownMetric('Heartbeat', { period: options.period }) },
          period: options.period,
          label: 'Ticks that worked',
        })
        : f.metrics.perPool(watches, options.period),
      threshold: options.threshold,
      comparisonOperator: silence
        ? cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
        : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods,
      datapointsToAlarm: options.datapointsToAlarm,
      // IGNORE: a monitor that never ran has sent no heartbeat, and a new alarm stays INSUFFICIENT_DATA rather than
      // paging at creation; once heartbeats came, FILL makes each silent period a 0, and when the last heartbeat has
      // left the evaluation range, the alarm keeps its ALARM state.
      treatMissingData: silence ? cloudwatch.TreatMissingData.IGNORE : f.pools.treatMissingData(spec),
    });
    const routed = spec.severity === 'warning' && f.props.warningActions ? f.props.warningActions : f.props.alarmActions;
    alarm.addAlarmAction(...(routed ?? []));
    alarm.addOkAction(...(f.props.okActions ?? []));
    if (f.props.alarmAction) {
      alarm.addAlarmAction(f.props.alarmAction);
      alarm.addOkAction(f.props.alarmAction);
    }
    made.set(spec.key, alarm);
  }
  return made;
}

/** A synth warning when the failure alarms made have no action: imports could be lost and nobody told. */
export function warnWhenNobodyIsPaged(scope: Construct, made: Map<AlarmKey, cloudwatch.Alarm>, props: ImportJobMonitorProps): void {
  const failures = ALARM_SPECS.filter((spec) => spec.severity === 'failure' && made.has(spec.key)).map((spec) => spec.suffix);
  if (failures.length === 0 || props.alarmActions?.length || props.alarmAction) return;
  Annotations.of(scope).addWarningV2(
    'import-job-monitor:noAlarmActions',
    `The failure alarms of this monitor (${failures.join(', ')}) page nobody: give alarmActions, e.g. an SNS topic's ` +
      'SnsAction (and warningActions for the warnings); if you add actions to monitor.alarms yourself, acknowledge this warning.',
  );
}

// CloudWatch reads more periods than it evaluates; docs/alarm-evaluation.md assumes 2 more, and so does this.
const EXTRA_PERIODS = 2;

/**
 * A single pool's `WARNING_ZEROS_SECONDS`: how long after a job's end its runs publish the warning gauges' zeros. The
 * warning alarms keep their state when data is missing, so a warning raised by the job needs zeros to clear, over
 * the alarm's whole evaluation range (its periods, and the extra ones CloudWatch reads), and a run to publish them,
 * which comes within a schedule. Empty for a fleet (its warnings treat missing data as not breaching) and when a
 * period is a token (the handler then takes the default alarms' range).
 */
export function warningZerosEnvironment(planned: PlannedAlarm[], pools: MonitoredPools, schedule: Duration): Record<string, string> {
  if (pools.fleet) return {};
  const gauges = planned.filter(({ spec }) => spec.gauge).map(({ options }) => options);
  if (gauges.some((o) => Token.isUnresolved(o.period.toSeconds()) || Token.isUnresolved(o.evaluationPeriods)) || Token.isUnresolved(schedule.toSeconds())) return {};
  const range = Math.max(0, ...gauges.map((o) => o.period.toSeconds() * (o.evaluationPeriods + EXTRA_PERIODS)));
  return { [ENV_WARNING_ZEROS_SECONDS]: String(range + schedule.toSeconds()) };
}
