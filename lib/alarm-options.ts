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
   * @default - one minute for the job and failed-users alarms; five minutes for the warnings; the schedule, five
   * minutes at least, for the health alarm; twice the active schedule, five minutes to an hour, for a fleet's
   * pool-runs alarm
   */
  readonly period?: Duration;

  /**
   * How many periods the alarm looks back over. Period times evaluation periods may not exceed one day for
   * periods under an hour, seven days for longer ones (CloudWatch's own limit).
   * @default - 5 for the job and failed-users alarms; 1 for the warnings; 3 for the health and pool-runs alarms
   */
  readonly evaluationPeriods?: number;

  /**
   * How many of those periods must breach for the alarm to fire.
   * @default - 1, except all of them for the health alarm and 2 for a fleet's pool-runs alarm
   */
  readonly datapointsToAlarm?: number;

  /**
   * For the other alarms, the count (jobs, waiting jobs, failed users) at or above which a period breaches; for
   * the health alarm, how many complete runs a period needs not to breach.
   * @default 1
   */
  readonly threshold?: number;
}
