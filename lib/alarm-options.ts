import { Duration } from 'aws-cdk-lib';

/** How one of the monitor's alarms evaluates; every field has a default that suits most pools. */
export interface ImportJobAlarmOptions {
  /**
   * Whether to create the alarm.
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * The alarm's period: a whole number of minutes.
   * @default - one minute for the job and failed-users alarms; five minutes for the warnings; the active schedule
   * (one tick) for the health alarm; two ticks, 5 minutes to an hour, for a fleet's pool-runs alarm
   */
  readonly period?: Duration;

  /**
   * How many periods the alarm looks back over. Period times evaluation periods may not exceed one day for
   * periods under an hour, seven days for longer ones (CloudWatch's own limit).
   * @default - 5 for the job and failed-users alarms; 1 for the warnings and the pool-runs alarm; for the health
   * alarm, as many as span 5 minutes, 3 at least
   */
  readonly evaluationPeriods?: number;

  /**
   * How many of those periods must breach for the alarm to fire.
   * @default - 1, except all of them for the health alarm
   */
  readonly datapointsToAlarm?: number;

  /**
   * For the other alarms, the count (jobs, waiting jobs, failed users, a pool's failed runs in a row) at or above
   * which a period breaches; for the health alarm, how many ticks that worked a period needs not to breach.
   * @default - 1; for a fleet's pool-runs alarm, 5 minutes of ticks, 3 at least
   */
  readonly threshold?: number;
}
