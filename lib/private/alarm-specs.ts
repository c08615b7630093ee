/**
 * Every alarm of the monitor, one row each: what it watches, its props, its defaults. The factory (alarm-factory.ts)
 * makes each row into an alarm, for a single pool and a fleet alike; what it tells the person it pages is in
 * descriptions.ts under the same key. Adding an alarm is a row here, a description, a prop and a field.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { ImportJobAlarmOptions } from '../alarm-options';
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

/** How often the monitor runs, which some defaults follow, and whether it is a fleet's. */
export interface Cadence {
  readonly schedule: Duration;
  readonly activeSchedule: Duration;
  readonly fleet: boolean;
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
  /** Its defaults, from the cadence and the options given (a period given sets how many periods the silence spans). */
  readonly defaults: (cadence: Cadence, given?: ImportJobAlarmOptions) => AlarmDefaults;
  /**
   * What it watches: a count or gauge at or above the threshold, per pool; or `silence`, fewer complete runs than the
   * threshold (the heartbeat).
   */
  readonly watches: PoolQuery | 'silence';
  /** A gauge published only while such a job exists: no data is the health alarm's to report (`IGNORE`). */
  readonly gauge?: boolean;
  /** Made for fleets only. */
  readonly fleetOnly?: boolean;
  /**
   * `failure`: imports were lost or go unwatched, someone must act now (to `alarmActions`). `warning`: something can
   * still be saved, or needs a look in working hours (to `warningActions` when given, else `alarmActions`).
   */
  readonly severity: 'failure' | 'warning';
}

// A job's end reaches CloudWatch through the logs pipeline, sometimes minutes late. One-minute periods, 1 of 5:
// a datapoint up to about four minutes late still falls in a period the alarm evaluates again. A fleet's, 1 of 15:
// a Metrics Insights alarm may not see a pool's series for minutes after its first datapoint, and a job in flight
// for less than that (its zeros are the series' first) must not end unseen.
const JOB_ALARM_DEFAULTS = { period: Duration.minutes(1), evaluationPeriods: 5, datapointsToAlarm: 1, threshold: 1 };
const FLEET_JOB_ALARM_DEFAULTS = { ...JOB_ALARM_DEFAULTS, evaluationPeriods: 15 };
const jobAlarmDefaults = ({ fleet }: Cadence) => (fleet ? FLEET_JOB_ALARM_DEFAULTS : JOB_ALARM_DEFAULTS);
// The warning gauges are published every minute while a job waits: one five-minute period holds several.
const WARNING_ALARM_DEFAULTS = { period: Duration.minutes(5), evaluationPeriods: 1, datapointsToAlarm: 1, threshold: 1 };
// PoolRunsFailed: a pool's failed runs in a row (published with each failed run) reach 5 minutes' worth, 3 runs at
// least. One period of two ticks (5 minutes to an hour) holds the latest: the count only grows while the pool fails,
// so the alarm cannot flap, and a few failed runs that end in one that works never page.
const POOL_RUN_FAILURES = Duration.minutes(5);
const MIN_POOL_RUN_FAILURES = 3;
const MIN_POOL_RUN_PERIOD = Duration.minutes(5);
const MAX_POOL_RUN_PERIOD = Duration.hours(1);
// Every tick sends a heartbeat: the health alarm's periods are the ticks' (a minute by default), and it pages when
// no tick worked for this long, or 3 periods if longer: soon, whatever the schedule, and still longer than one failed
// tick and a heartbeat a few minutes late in the logs pipeline. All of them must breach: FILL turns the periods before
// a new monitor's first heartbeat into zeros too, so more periods than must breach would page at creation. (A stopped
// monitor's last heartbeat is still in CloudWatch's evaluation range, which is longer than the evaluation periods,
// when it pages: docs/alarm-evaluation.md.)
const SILENCE = Duration.minutes(5);
const MIN_SILENT_PERIODS = 3;

/** The alarms, in the order they are made (and listed in `alarms` and the dashboard's alarm status). */
export const ALARM_SPECS: readonly AlarmSpec[] = [
  {
    key: 'failedJobsAlarm',
    id: 'FailedJobsAlarm',
    suffix: 'JobFailed',
    optionsProp: 'failedJobsAlarmOptions',
    enableProp: 'enableFailedJobsAlarm',
    defaults: jobAlarmDefaults,
    watches: { metric: 'JobsCompleted', status: 'Failed' },
    severity: 'failure',
  },
  {
    key: 'expiredJobsAlarm',
    id: 'ExpiredJobsAlarm',
    suffix: 'JobExpired',
    optionsProp: 'expiredJobsAlarmOptions',
    enableProp: 'enableExpiredJobsAlarm',
    defaults: jobAlarmDefaults,
    watches: { metric: 'JobsCompleted', status: 'Expired' },
    severity: 'failure',
  },
  {
    key: 'expiringJobsAlarm',
    id: 'ExpiringJobsAlarm',
    suffix: 'JobAwaitingStart',
    optionsProp: 'expiringJobsAlarmOptions',
    defaults: () => WARNING_ALARM_DEFAULTS,
    watches: { metric: 'JobsAwaitingStart' },
    gauge: true,
    severity: 'warning',
  },
  {
    key: 'stuckJobsAlarm',
    id: 'StuckJobsAlarm',
    suffix: 'JobStuck',
    optionsProp: 'stuckJobsAlarmOptions',
    defaults: () => WARNING_ALARM_DEFAULTS,
    watches: { metric: 'JobsStuck' },
    gauge: true,
    severity: 'warning',
  },
  {
    key: 'failedUsersAlarm',
    id: 'FailedUsersAlarm',
    suffix: 'UsersFailed',
    optionsProp: 'failedUsersAlarmOptions',
    // Published once, at a job's end: never while it runs, never for a job that ended Failed (JobFailed's).
    defaults: jobAlarmDefaults,
    watches: { metric: 'FailedUsersOfEndedJobs' },
    severity: 'warning',
  },
  {
    key: 'poolRunsFailedAlarm',
    id: 'PoolRunsFailedAlarm',
    suffix: 'PoolRunsFailed',
    optionsProp: 'poolRunsFailedAlarmOptions',
    // A failed pool stays due, so it fails once a tick.
    defaults: ({ activeSchedule }) => {
      const tick = activeSchedule.toMinutes();
      const period = Math.min(MAX_POOL_RUN_PERIOD.toMinutes(), Math.max(2 * tick, MIN_POOL_RUN_PERIOD.toMinutes()));
      const threshold = Math.max(MIN_POOL_RUN_FAILURES, Math.ceil(POOL_RUN_FAILURES.toMinutes() / tick));
      return { period: Duration.minutes(period), evaluationPeriods: 1, threshold };
    },
    watches: { metric: 'PoolRunsFailed' },
    fleetOnly: true,
    severity: 'failure',
  },
  {
    key: 'monitorHealthAlarm',
    // Not 'MonitorHealthAlarm': in 0.1.0 that ID was a composite alarm, and CloudFormation cannot change a
    // resource's type in place.
    id: 'MonitorSilentAlarm',
    suffix: 'MonitorSilent',
    optionsProp: 'monitorHealthAlarmOptions',
    enableProp: 'enableMonitorHealthAlarm',
    defaults: ({ activeSchedule }, given) => {
      const period = given?.period ?? activeSchedule;
      const spans = Token.isUnresolved(period.toSeconds()) ? 0 : Math.ceil(SILENCE.toSeconds() / period.toSeconds());
      return { period, evaluationPeriods: Math.max(MIN_SILENT_PERIODS, spans), threshold: 1 };
    },
    watches: 'silence',
    severity: 'failure',
  },
];
