import { Duration, Token } from 'aws-cdk-lib';

/** How one of the monitor's alarms evaluates; every field has a default that suits most pools. */
export interface ImportJobAlarmOptions {
  /**
   * Whether to create the alarm.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The alarm's period: a whole number of minutes.
   * @default - one minute for the job and failed-users alarms; five minutes for the warnings; the schedule, five
   * minutes at least, for the health alarm
   */
  readonly period?: Duration;

  /**
   * How many periods the alarm looks back over. Period times evaluation periods may not exceed one day for
   * periods under an hour, seven days for longer ones (CloudWatch's own limit).
   * @default - 5 for the job and failed-users alarms; 1 for the warnings; 3 for the health alarm
   */
  readonly evaluationPeriods?: number;

  /**
   * How many of those periods must breach for the alarm to fire.
   * @default - 1, except all of them for the health alarm
   */
  readonly datapointsToAlarm?: number;

  /**
   * For the other alarms, the count (jobs, waiting jobs, failed users) at or above which a period breaches; for
   * the health alarm, how many complete runs a period needs not to breach.
   * @default 1
   */
  readonly threshold?: number;
}

/** An alarm's settings once defaults are applied: what the construct builds the alarm from. */
export interface ResolvedAlarmOptions {
  readonly period: Duration;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
}

/** The defaults of one alarm; without `datapointsToAlarm`, every evaluated period must breach. */
export interface AlarmDefaults {
  readonly period: Duration;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm?: number;
  readonly threshold: number;
}

/**
 * Applies the defaults and checks the result, naming the prop and the bad value.
 * `prop` is the props field the options came from, e.g. `failedJobsAlarmOptions`.
 */
export function resolveAlarmOptions(
  prop: string,
  options: ImportJobAlarmOptions | undefined,
  defaults: AlarmDefaults,
): ResolvedAlarmOptions {
  const evaluationPeriods = options?.evaluationPeriods ?? defaults.evaluationPeriods;
  const resolved: ResolvedAlarmOptions = {
    period: options?.period ?? defaults.period,
    evaluationPeriods,
    datapointsToAlarm: options?.datapointsToAlarm ?? defaults.datapointsToAlarm ?? evaluationPeriods,
    threshold: options?.threshold ?? defaults.threshold,
  };
  const { period, datapointsToAlarm, threshold } = resolved;
  if (Token.isUnresolved(period.toSeconds()) || Token.isUnresolved(evaluationPeriods)) return resolved;
  const seconds = period.toSeconds();
  if (!isWholeMinutes(period)) {
    throw new Error(`${prop}.period must be a whole number of minutes, got ${period.toHumanString()}`);
  }
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
    throw new Error(`${prop}.evaluationPeriods must be a whole number, at least 1, got ${evaluationPeriods}`);
  }
  if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
    throw new Error(`${prop}.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm}`);
  }
  if (!(threshold > 0)) {
    throw new Error(`${prop}.threshold must be above 0, got ${threshold}`);
  }
  const cap = maxAlarmRange(period);
  if (seconds * evaluationPeriods > cap.toSeconds()) {
    throw new Error(
      `${prop}: period times evaluationPeriods may be at most ${cap.toHumanString()} for a period of ${period.toHumanString()}, ` +
        `got ${evaluationPeriods} x ${period.toHumanString()}`,
    );
  }
  return resolved;
}

/** Whether a duration is a whole number of minutes, at least one and, when `max` is given, at most `max`. */
export function isWholeMinutes(value: Duration, max?: Duration): boolean {
  const ms = value.toMilliseconds();
  return ms % 60_000 === 0 && ms >= 60_000 && (max === undefined || ms <= max.toMilliseconds());
}

/** CloudWatch's cap on an alarm's range (PutMetricAlarm): one day below an hour's period, seven days from it. */
export function maxAlarmRange(period: Duration): Duration {
  return period.toSeconds() >= 3600 ? Duration.days(7) : Duration.days(1);
}
