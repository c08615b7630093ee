/**
 * The checks of the monitor's props, each naming the prop and the bad value. Tokens are skipped: their values are
 * known at deploy time only.
 */
import { Arn, ArnFormat, Duration, Stack, Token, aws_cognito as cognito, aws_logs as logs } from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct, IConstruct } from 'constructs';
import { ImportJobAlarmOptions } from '../alarm-options';
import { JOB_STATUSES, userPoolRegion } from '../contract';
import { UserPoolDiscovery } from '../fleet-options';
import { ImportJobMonitorProps } from '../props';

/** A prop the monitor cannot take: the monitor's constructor names itself in it (`atPath`). */
export class PropsError extends Error {}

/** The error, when it is a `PropsError`, with the path of the monitor whose props it is about in front. */
export function atPath(monitor: IConstruct, error: unknown): unknown {
  return error instanceof PropsError ? new PropsError(`${monitor.node.path}: ${error.message}`) : error;
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
    throw new PropsError(`${prop}.period must be a whole number of minutes, got ${period.toHumanString()}`);
  }
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
    throw new PropsError(`${prop}.evaluationPeriods must be a whole number, at least 1, got ${evaluationPeriods}`);
  }
  if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
    throw new PropsError(`${prop}.datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm}`);
  }
  if (!(threshold > 0)) {
    throw new PropsError(`${prop}.threshold must be above 0, got ${threshold}`);
  }
  const cap = maxAlarmRange(period);
  if (seconds * evaluationPeriods > cap.toSeconds()) {
    throw new PropsError(
      `${prop}: period times evaluationPeriods may be at most ${cap.toHumanString()} for a period of ${period.toHumanString()}, ` +
        `got ${evaluationPeriods} x ${period.toHumanString()}`,
    );
  }
  return resolved;
}

/** Whether a duration is a whole number of minutes, at least one and, when `max` is given, at most `max`. */
function isWholeMinutes(value: Duration, max?: Duration): boolean {
  const ms = value.toMilliseconds();
  return ms % 60_000 === 0 && ms >= 60_000 && (max === undefined || ms <= max.toMilliseconds());
}

/** CloudWatch's cap on an alarm's range (PutMetricAlarm): one day below an hour's period, seven days from it. */
function maxAlarmRange(period: Duration): Duration {
  return period.toSeconds() >= 3600 ? Duration.days(7) : Duration.days(1);
}

/** Exactly one of the three ways to say which pools. */
export function validateSources(props: ImportJobMonitorProps): void {
  const sources = (['userPool', 'userPools', 'discoverUserPools'] as const).filter((key) => props[key] !== undefined);
  if (sources.length !== 1) {
    throw new PropsError(
      'exactly one of userPool (one pool), userPools (a fleet listed) and discoverUserPools (a fleet of every pool of the ' +
        `account and region) must be given, got ${sources.length === 0 ? 'none' : sources.join(' and ')}`,
    );
  }
}

export function validateSchedule(schedule: Duration): void {
  if (!isWholeMinutes(schedule, Duration.minutes(1440))) {
    throw new PropsError(`schedule must be a whole number of minutes between 1 and 1440, got ${schedule.toHumanString()}`);
  }
}

export function validateActiveSchedule(active: Duration, schedule: Duration): void {
  if (!isWholeMinutes(active, schedule)) {
    throw new PropsError(
      `activeSchedule must be a whole number of minutes from 1 to the schedule (${schedule.toHumanString()}), got ${active.toHumanString()}`,
    );
  }
}

export function validateNamespace(namespace: string): void {
  if (Token.isUnresolved(namespace)) return;
  if (!/^[a-zA-Z0-9._#:/-]{1,255}$/.test(namespace) || namespace.startsWith('AWS/')) {
    throw new PropsError(
      'metricNamespace must be 1 to 255 letters, digits or . _ # : / - and must not start with AWS/, ' +
        `got ${JSON.stringify(namespace)}`,
    );
  }
}

// AWS names a region by an area, maybe a qualifier (us-gov, eu-isoe, eusc-de), a direction and a number. A region that
// the app's aws-cdk-lib does not know and that is not built so is a slip (xx-nowhere-9_AbC123), which would otherwise
// surface only as the function's failed calls. The handler accepts any region-shaped ID: AWS may open a region later.
const REGION_NAME = /^(af|ap|ca|cn|eu|eusc|il|me|mx|sa|us)(-[a-z]+)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;

function isRegionName(region: string): boolean {
  return REGION_NAME.test(region) || RegionInfo.regions.some((known) => known.name === region);
}

/**
 * A pool of `userPool` or `userPools`: an ID with a region of AWS, and, for a pool imported by an ARN of a third
 * region (neither the ID's nor the stack's), a slip in the ARN. `UserPool.fromUserPoolId` makes an ARN in the stack's
 * region, whatever the ID's, so an ARN there is not told apart; the monitor calls Cognito and grants its role in the
 * ID's region in any case (pools.ts `userPoolArn`).
 */
export function validateUserPool(userPool: cognito.IUserPool, prop: 'userPool' | 'userPools'): void {
  const id = userPool.userPoolId;
  if (Token.isUnresolved(id)) return;
  const region = userPoolRegion(id);
  if (region === undefined) {
    throw new PropsError(
      prop === 'userPool'
        ? `userPool must have an ID like eu-west-1_AbC123 (its region, an underscore, letters and digits), got ${JSON.stringify(id)}`
        : `userPools must hold user pools with IDs like eu-west-1_AbC123 (its region, an underscore, letters and digits), got ${JSON.stringify(id)}`,
    );
  }
  if (!isRegionName(region)) {
    throw new PropsError(
      `${prop}: the user pool ID ${JSON.stringify(id)} names the region ${JSON.stringify(region)}, which is no AWS region: ` +
        'an ID starts with its pool\'s region, such as eu-west-1 or us-gov-west-1',
    );
  }
  const arn = userPool.userPoolArn;
  if (Token.isUnresolved(arn)) return;
  const arnRegion = Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).region;
  if (arnRegion !== region && arnRegion !== Stack.of(userPool).region) {
    throw new PropsError(
      `${prop}: the user pool ARN ${JSON.stringify(arn)} names the region ${JSON.stringify(arnRegion)}, but its ID ${JSON.stringify(id)} ` +
        `the region ${JSON.stringify(region)}: a pool lives in the region its ID names, so correct the ARN`,
    );
  }
}

// ListUserImportJobs lists a pool's jobs to its own account only: Cognito has no resource policy to share them.
export function validateAccount(scope: Construct, userPool: cognito.IUserPool, prop = 'userPool'): void {
  const stackAccount = Stack.of(scope).account;
  const poolAccount = userPool.env.account;
  if (Token.isUnresolved(stackAccount) || Token.isUnresolved(poolAccount) || stackAccount === poolAccount) return;
  const what = prop === 'userPool' ? 'userPool must be' : `${prop} must all be`;
  throw new PropsError(
    `${what} in the stack's account ${stackAccount}, where the function lists its jobs, got a pool in account ${poolAccount}`,
  );
}

/** Props that only a fleet takes, given with `userPool`. */
export function validateNoFleetProps(props: ImportJobMonitorProps): void {
  for (const fleetOnly of ['monitorName', 'poolRunsFailedAlarmOptions', 'cognitoRequestsPerSecond'] as const) {
    if (props[fleetOnly] !== undefined) {
      throw new PropsError(`${fleetOnly} is for fleets (userPools or discoverUserPools), got it with userPool: drop it`);
    }
  }
}

// At least a call a second: the function spaces its calls 1,000 / rate ms apart, and below one a second a tick of a
// few pages would run into its deadline.
export function validateRequestRate(rate: number | undefined): void {
  if (rate !== undefined && !Token.isUnresolved(rate) && !(rate >= 1 && rate <= 1000)) {
    throw new PropsError(`cognitoRequestsPerSecond must be a number of calls a second from 1 to 1000, got ${rate}`);
  }
}

const MONITOR_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function validateMonitorName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!MONITOR_NAME.test(name)) {
    throw new PropsError(`monitorName must be 1 to 64 letters, digits or . _ -, got ${JSON.stringify(name)}`);
  }
}

// A pool ID or name as Cognito takes them (names: [\w\s+=,.@-]+, at most 128), with * for any run of characters. Of
// whitespace, only the space: a line break, a tab or a no-break space in a pattern is a slip of the pen (a pool name
// that holds one is still matched by a *), and \w is ASCII only, so no control character or emoji either.
const PATTERN = /^[\w +=,.@*-]{1,128}$/;

export function validateDiscovery(discovery: UserPoolDiscovery): void {
  for (const key of ['include', 'exclude'] as const) {
    const patterns = discovery[key];
    if (patterns === undefined || Token.isUnresolved(patterns)) continue;
    if (key === 'include' && patterns.length === 0) {
      throw new PropsError('discoverUserPools.include must name at least one pattern when given, got []: leave it out to watch every pool');
    }
    for (const pattern of patterns) {
      if (Token.isUnresolved(pattern)) continue;
      if (!PATTERN.test(pattern) || pattern.trim() === '') {
        throw new PropsError(
          `discoverUserPools.${key} takes patterns of 1 to 128 letters, digits, spaces or + = , . @ - _ with * for any run ` +
            `of characters, got ${JSON.stringify(pattern)}`,
        );
      }
    }
  }
}

/** Metrics Insights alarms evaluate the latest 3 hours only. */
const MAX_INSIGHTS_ALARM_RANGE = Duration.hours(3);

export function validateInsightsRange(prop: string, options: ResolvedAlarmOptions): void {
  if (Token.isUnresolved(options.period.toSeconds()) || Token.isUnresolved(options.evaluationPeriods)) return;
  const range = options.period.toSeconds() * options.evaluationPeriods;
  if (range > MAX_INSIGHTS_ALARM_RANGE.toSeconds()) {
    throw new PropsError(
      `${prop}: a fleet's alarms are Metrics Insights queries, which evaluate the latest 3 hours only, so period times ` +
        `evaluationPeriods may be at most 3 hours, got ${options.evaluationPeriods} x ${options.period.toHumanString()}`,
    );
  }
}

// Besides the gap between two ticks, room for one failed tick and a heartbeat a few minutes late in the logs pipeline.
const HEALTH_MARGIN = Duration.minutes(4);

/**
 * The health alarm must not fire while ticks come as they should: every tick sends a heartbeat, so its breaching
 * periods must span one tick and a margin, and a period must be able to hold `threshold` ticks.
 */
export function validateHealthAgainstCadence(options: ResolvedAlarmOptions, activeSchedule: Duration): void {
  const tick = activeSchedule.toSeconds();
  const needed = tick + HEALTH_MARGIN.toSeconds();
  const spanned = options.period.toSeconds() * options.datapointsToAlarm;
  if (spanned < needed) {
    throw new PropsError(
      `monitorHealthAlarmOptions: period times datapointsToAlarm must be at least one tick (activeSchedule) and 4 minutes ` +
        `(${needed / 60} minutes), so that one failed tick or a late heartbeat does not page, got ${spanned / 60} minutes`,
    );
  }
  const ticksPerPeriod = Math.max(1, Math.floor(options.period.toSeconds() / tick));
  if (options.threshold > ticksPerPeriod) {
    throw new PropsError(
      `monitorHealthAlarmOptions.threshold must be at most the ticks a period surely holds (${ticksPerPeriod}), got ${options.threshold}`,
    );
  }
}

export function validateWarning(prop: string, value: Duration, max: Duration): void {
  if (!isWholeMinutes(value, max)) {
    throw new PropsError(`${prop} must be a whole number of minutes from 1 minute to ${max.toHumanString()}, got ${value.toHumanString()}`);
  }
}

export function validateAlarmNamePrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  // The longest suffix is "-JobAwaitingStart" (17); CloudWatch takes names of up to 255 characters.
  if (prefix.length < 1 || prefix.length > 238) {
    throw new PropsError(`alarmNamePrefix must be 1 to 238 characters, got ${JSON.stringify(prefix)}`);
  }
  // CloudWatch takes UTF-8 without ASCII control characters; printable ASCII is what every place an alarm name goes
  // (its ARN in IAM policies, an e-mail's subject, a pager) shows and matches alike, so only that.
  if (!/^[\x20-\x7e]+$/.test(prefix)) {
    throw new PropsError(`alarmNamePrefix must be printable ASCII characters only (space to ~), got ${JSON.stringify(prefix)}`);
  }
}

// CloudFormation accepts these retention periods and no other; RetentionDays.INFINITE means none is set.
const RETENTION_DAYS = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');

export function validateLogRetention(retention: logs.RetentionDays | undefined): void {
  if (retention === undefined || Token.isUnresolved(retention) || RETENTION_DAYS.includes(retention)) return;
  throw new PropsError(`logRetention must be one of the logs.RetentionDays values (${RETENTION_DAYS.join(', ')}), got ${JSON.stringify(retention)}`);
}

export function validateEventBus(props: ImportJobMonitorProps): void {
  if (props.jobEvents === false && props.eventBus !== undefined) {
    throw new PropsError(
      `eventBus is given (${props.eventBus.node.path}) but jobEvents is false, so no event would be sent to it: ` +
        'drop eventBus, or leave jobEvents on',
    );
  }
}

export function checkStatus(method: string, status: string, allowed: readonly string[]): void {
  if (!allowed.includes(status)) {
    throw new PropsError(`${method} takes a status among ${allowed.join(', ')}, got ${JSON.stringify(status)}`);
  }
}

/** `onJobStateChange`'s statuses: at least one when given, each a job status. */
export function validateStatuses(statuses: string[] | undefined): void {
  if (statuses === undefined) return;
  if (statuses.length === 0) {
    throw new PropsError('onJobStateChange statuses must name at least one status when given, got []');
  }
  const unknown = statuses.filter((status) => !(JOB_STATUSES as readonly string[]).includes(status));
  if (unknown.length > 0) {
    throw new PropsError(`onJobStateChange statuses must be among ${JOB_STATUSES.join(', ')}, got ${JSON.stringify(unknown)}`);
  }
}
