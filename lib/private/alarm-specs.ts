/**
 * Every alarm of the monitor, one row each: what it watches, its props, its defaults. The factory (alarm-factory.ts)
 * makes each row into an alarm, for a single pool and a fleet alike; what it tells the person it pages is in
 * descriptions.ts under the same key. Adding an alarm is a row here, a description, a prop and a field.
 */
import { Duration } from 'aws-cdk-lib';
import { PoolQuery } from './metric-specs';
import { AlarmDefaults } from './validate';

/** The construct's field that holds each alarm. */
export type AlarmKey =
  | 'failedJobsAlarm'
  | 'expiredJobsAlarm'
  | 'expiringJobsAlarm'
  | 'stuckJobsAlarm'
  | 'failedUsersAlarm'
  | 'poolRunsFailedAlarm'
  | 'monitorHealthAlarm';

/** How often the monitor runs, which some defaults follow. */
export interface Cadence {
  readonly schedule: Duration;
  readonly activeSchedule: Duration;
}

export interface AlarmSpec {
  readonly key: AlarmKey;
  /** The construct ID: part of the contract, changing one replaces the alarm. */
  readonly id: string;
  /** The alarm name is `<alarmNamePrefix>-<suffix>`. */
  readonly suffix: string;
  readonly optionsProp:
    | 'failedJobsAlarmOptions'
    | 'expiredJobsAlarmOptions'
    | 'expiringJobsAlarmOptions'
    | 'stuckJobsAlarmOptions'
    | 'failedUsersAlarmOptions'
    | 'poolRunsFailedAlarmOptions'
    | 'monitorHealthAlarmOptions';
  /** The deprecated switch that turns it off, if it has one. */
  readonly enableProp?: 'enableFailedJobsAlarm' | 'enableExpiredJobsAlarm' | 'enableMonitorHealthAlarm';
  readonly defaults: (cadence: Cadence) => AlarmDefaults;
  /**
   * What it watches: a count or gauge at or above the threshold, per pool; or `silence`, fewer complete runs than the
   * threshold (the heartbeat).
   */
  readonly watches: PoolQuery | 'silence';
  /** A gauge published only while such a job exists: no data is the health alarm's to report (`IGNORE`). */
  readonly gauge?: boolean;
  /** Made for fleets only. */
  readonly fleetOnly?: boolean;
}

// A job's end reaches CloudWatch through the logs pipeline, sometimes minutes late. One-minute periods, 1 of 5:
// a datapoint up to about four minutes late still falls in a period the alarm evaluates again.
const JOB_ALARM_DEFAULTS = { period: Duration.minutes(1), evaluationPeriods: 5, datapointsToAlarm: 1, threshold: 1 };
// The warning gauges are published every minute while a job waits: one five-minute period holds several.
const WARNING_ALARM_DEFAULTS = { period: Duration.minutes(5), evaluationPeriods: 1, datapointsToAlarm: 1, threshold: 1 };
// Silent for three periods in a row: one late or failed run never pages, a broken monitor does.
const SILENT_PERIODS = 3;
// FILL makes a period whose heartbeat is not ingested yet a real 0: below five minutes, one failed run and a
// late heartbeat could fill three periods.
const MIN_HEALTH_PERIOD = Duration.minutes(5);

/** The alarms, in the order they are made (and listed in `alarms` and the dashboard's alarm status). */
export const ALARM_SPECS: readonly AlarmSpec[] = [
  {
    key: 'failedJobsAlarm',
    id: 'FailedJobsAlarm',
    suffix: 'JobFailed',
    optionsProp: 'failedJobsAlarmOptions',
    enableProp: 'enableFailedJobsAlarm',
    defaults: () => JOB_ALARM_DEFAULTS,
    watches: { metric: 'JobsCompleted', status: 'Failed' },
  },
  {
    key: 'expiredJobsAlarm',
    id: 'ExpiredJobsAlarm',
    suffix: 'JobExpired',
    optionsProp: 'expiredJobsAlarmOptions',
    enableProp: 'enableExpiredJobsAlarm',
    defaults: () => JOB_ALARM_DEFAULTS,
    watches: { metric: 'JobsCompleted', status: 'Expired' },
  },
  {
    key: 'expiringJobsAlarm',
    id: 'ExpiringJobsAlarm',
    suffix: 'JobAwaitingStart',
    optionsProp: 'expiringJobsAlarmOptions',
    defaults: () => WARNING_ALARM_DEFAULTS,
    watches: { metric: 'JobsAwaitingStart' },
    gauge: true,
  },
  {
    key: 'stuckJobsAlarm',
    id: 'StuckJobsAlarm',
    suffix: 'JobStuck',
    optionsProp: 'stuckJobsAlarmOptions',
    defaults: () => WARNING_ALARM_DEFAULTS,
    watches: { metric: 'JobsStuck' },
    gauge: true,
  },
  {
    key: 'failedUsersAlarm',
    id: 'FailedUsersAlarm',
    suffix: 'UsersFailed',
    optionsProp: 'failedUsersAlarmOptions',
    defaults: () => JOB_ALARM_DEFAULTS,
    watches: { metric: 'FailedUsers' },
  },
  {
    key: 'poolRunsFailedAlarm',
    id: 'PoolRunsFailedAlarm',
    suffix: 'PoolRunsFailed',
    optionsProp: 'poolRunsFailedAlarmOptions',
    // A failed pool stays due, so it fails once a tick: a period of two ticks holds one failure at least, whatever the
    // ticks' drift; 2 of 3 such periods page, and the 3 periods stay within the 3 hours a Metrics Insights alarm reads.
    defaults: ({ activeSchedule }) => ({
      period: Duration.minutes(Math.min(60, Math.max(2 * activeSchedule.toMinutes(), MIN_HEALTH_PERIOD.toMinutes()))),
      evaluationPeriods: SILENT_PERIODS,
      datapointsToAlarm: 2,
      threshold: 1,
    }),
    watches: { metric: 'PoolRunsFailed' },
    fleetOnly: true,
  },
  {
    key: 'monitorHealthAlarm',
    // Not 'MonitorHealthAlarm': in 0.1.0 that ID was a composite alarm, and CloudFormation cannot change a
    // resource's type in place.
    id: 'MonitorSilentAlarm',
    suffix: 'MonitorSilent',
    optionsProp: 'monitorHealthAlarmOptions',
    enableProp: 'enableMonitorHealthAlarm',
    defaults: ({ schedule }) => ({
      period: Duration.minutes(Math.max(schedule.toMinutes(), MIN_HEALTH_PERIOD.toMinutes())),
      evaluationPeriods: SILENT_PERIODS,
      threshold: 1,
    }),
    watches: 'silence',
  },
];
