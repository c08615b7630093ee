/**
 * What each alarm tells the person it pages: what happened, which pool and job, where to look, what to do. One table
 * for a single pool, one for a fleet (whose alarms name each pool as a contributor), with the same keys. CloudWatch
 * takes descriptions of at most 1,024 characters: each is made of whole sentences, the least needed of which are left
 * out, never cut, when the longest names the props allow would make it longer (`fitDescription`).
 */
import { CfnResource, Duration, Stack, Token, aws_logs as logs } from 'aws-cdk-lib';
import { GONE_POOL_REPORTED_RUNS } from '../contract';
import { AlarmKey } from './alarm-specs';
import { ResolvedAlarmOptions } from './validate';

/** What the descriptions name besides the alarm's own options. */
export interface DescriptionContext {
  readonly logGroupName: string;
  /**
   * The longest a name the descriptions hold can be once deployed, by its text at synth, where that is a token: the
   * log group's name, a pool's ID (`longestNames`).
   */
  readonly longest: ReadonlyMap<string, number>;
  readonly awaitingStart: Duration;
  readonly stuck: Duration;
}

/**
 * A sentence of a description: a string is always kept; one with `drop` is left out when the description would
 * be too long, the highest `drop` first, and replaced by `instead` if it has one.
 */
export type Sentence = string | { readonly text: string; readonly drop: number; readonly instead?: string };

export type Describe = (options: ResolvedAlarmOptions) => Sentence[];
export type Descriptions = Partial<Record<AlarmKey, Describe>>;

/** CloudWatch's limit on an alarm's description. */
export const MAX_DESCRIPTION_LENGTH = 1024;

/**
 * The sentences joined, leaving out the optional ones, highest `drop` first, until the description fits in 1,024
 * characters once the log group's name is as long as it can be. Fails, naming the alarm, if even the sentences
 * always kept do not fit.
 */
export function fitDescription(alarm: string, sentences: Sentence[], context: DescriptionContext): string {
  const lengthOf = (text: string) =>
    [...context.longest].reduce((length, [name, longest]) => length + (text.split(name).length - 1) * Math.max(0, longest - name.length), text.length);
  const drops = [...new Set(sentences.flatMap((s) => (typeof s === 'string' ? [] : [s.drop])))].sort((a, b) => a - b);
  for (let keep = drops.length; keep >= 0; keep--) {
    const kept = new Set(drops.slice(0, keep));
    const text = sentences
      .map((s) => (typeof s === 'string' ? s : kept.has(s.drop) ? s.text : s.instead))
      .filter((s): s is string => s !== undefined)
      .join(' ');
    if (lengthOf(text) <= MAX_DESCRIPTION_LENGTH) return text;
  }
  throw new Error(`The description of ${alarm} would be longer than CloudWatch's ${MAX_DESCRIPTION_LENGTH} characters, even at its shortest`);
}

/**
 * The longest the names that are tokens at synth can be once deployed: the log group's, and the pool's ID when the pool
 * is made in the same app (55 characters at most).
 */
export function longestNames(logGroup: logs.ILogGroup, userPoolId: string | undefined): ReadonlyMap<string, number> {
  const longest = new Map([[logGroup.logGroupName, longestLogGroupName(logGroup)]]);
  if (userPoolId !== undefined && Token.isUnresolved(userPoolId)) longest.set(userPoolId, MAX_USER_POOL_ID_LENGTH);
  return longest;
}

const MAX_USER_POOL_ID_LENGTH = 55;

/**
 * The longest a log group's name can be once deployed: its own, or, when CloudFormation names it,
 * `<stack name>-<logical ID>-<random suffix of 12 or 13>`, with the stack's name at its longest (128) when it is a token.
 */
function longestLogGroupName(logGroup: logs.ILogGroup): number {
  if (!Token.isUnresolved(logGroup.logGroupName)) return logGroup.logGroupName.length;
  const stack = Stack.of(logGroup);
  const named = (logGroup.node.defaultChild as logs.CfnLogGroup).logGroupName;
  if (named !== undefined && !Token.isUnresolved(named)) return named.length;
  const stackName = Token.isUnresolved(stack.stackName) ? 128 : stack.stackName.length;
  const logicalId: string = stack.resolve((logGroup.node.defaultChild as CfnResource).logicalId);
  return Math.min(512, stackName + 1 + logicalId.length + 1 + 13);
}

/** The alarms of a single pool's monitor. */
export function singlePoolDescriptions(pool: string, { logGroupName, awaitingStart, stuck }: DescriptionContext): Descriptions {
  const cognitoLog = `Cognito's own log of a job: log group /aws/cognito/userpools/${pool}/<pool name>, stream <job ID>/<job name>.`;
  // The package's CLI lists every page of the pool's jobs and flags those the alarms count (docs/cli.md); the pool's
  // region is its ID's, which the CLI calls by default.
  const status = `npx import-job-monitor status --user-pool-id ${pool}`;
  const jobsNow: Sentence = { text: `The pool's jobs, their counts and completion messages, from a terminal: ${status}.`, drop: 2 };
  return {
    failedJobsAlarm: () => [
      `A user import job into Cognito user pool ${pool} ended Failed: its users were not all imported.`,
      completions(logGroupName, 'status = "Failed"', false),
      jobsNow,
      { text: cognitoLog, drop: 2 },
      secondJob,
      "To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, then create and start a new import job.",
    ],
    expiredJobsAlarm: () => [
      `A user import job into Cognito user pool ${pool} expired: it was created and never started, so none of its users ` +
        'were imported, and Cognito deleted its CSV.',
      completions(logGroupName, 'status = "Expired"', false),
      jobsNow,
      secondJob,
      'To do: create the job again and start it (StartUserImportJob) within a day.',
    ],
    expiringJobsAlarm: () => [
      `A user import job into Cognito user pool ${pool} was created more than ${awaitingStart.toHumanString()} ago and ` +
        'has not been started: Cognito deletes it, with its CSV, 24 to 48 hours after creation.',
      `Which job: the Created one, flagged "awaiting start" by ${status}, which lists every job of the pool.`,
      'To do: start it now (StartUserImportJob), or stop it if it is not wanted.',
    ],
    stuckJobsAlarm: () => [
      `A user import job into Cognito user pool ${pool} has been Pending, InProgress or Stopping for more than ` +
        `${stuck.toHumanString()}.`,
      { text: 'Only one import job runs at a time per account: a Pending job may wait behind another.', drop: 2 },
      `Which job: ${status} lists every job of the pool with its counts and age, the stuck one flagged "running".`,
      { text: `Its progress: log group /aws/cognito/userpools/${pool}/<pool name>, stream <job ID>/<job name>.`, drop: 1 },
      'To do: if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.',
    ],
    failedUsersAlarm: (o) => [
      `A user import job into Cognito user pool ${pool} ended Succeeded or Stopped with users that failed to import ` +
        `(at least ${o.threshold} in ${periods(o)}): those users are not in the pool.`,
      completions(logGroupName, 'failedUsers > 0 and status != "Failed"', false),
      jobsNow,
      { text: cognitoLog, drop: 2 },
      "To do: read the failed rows in Cognito's log of the job, fix them in a new CSV and import that. A job that ended " +
        'Failed is the JobFailed alarm\'s, not this one\'s.',
    ],
    monitorHealthAlarm: (o) => [
      `The import job monitor of Cognito user pool ${pool} had ${ticks(o)} in ${periods(o)}: it did not run, or its ` +
        'runs failed, so failed or expired imports would go unnoticed.',
      `Look in log group ${logGroupName} for "Run failed": its error names the call and the cause.`,
      { text: `${causes} TimeoutError or a deadline: Cognito or DynamoDB did not answer; "could not store": the state table refuses writes; "could not send ... job events": the event bus refuses them, which stay owed until it takes them).`, drop: 1 },
      'No such line: check that the schedule rule is enabled and the function exists.',
    ],
  };
}

/** The alarms of a fleet's monitor: `name` is the fleet's, `source` the prop its pools came from. */
export function fleetDescriptions(name: string, source: string, { logGroupName, awaitingStart, stuck }: DescriptionContext): Descriptions {
  const which: Sentence = {
    text: "Which pool: this alarm's contributors (its state reason, and the alarm's page in the CloudWatch console) name each " +
      'pool in ALARM by its UserPoolId; each pool is a contributor of its own.',
    drop: 4,
    instead: "Which pool: this alarm's contributors name it by its UserPoolId.",
  };
  const cognitoLog = "Cognito's own log of a job: /aws/cognito/userpools/<pool id>/<pool name>, stream <job ID>/<job name>.";
  // The pool is the alarm's contributor: the CLI's single-pool form, for that pool (docs/cli.md).
  const status = 'npx import-job-monitor status --user-pool-id <pool id>';
  const jobsNow: Sentence = { text: `That pool's jobs, their counts and completion messages, from a terminal: ${status}.`, drop: 2 };
  const fleetPool = `a Cognito user pool of fleet ${name}`;
  return {
    failedJobsAlarm: () => [
      `A user import job into ${fleetPool} ended Failed: its users were not all imported.`,
      which,
      completions(logGroupName, 'status = "Failed"', true),
      jobsNow,
      { text: cognitoLog, drop: 2 },
      "To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, then create and start a new import job.",
    ],
    expiredJobsAlarm: () => [
      `A user import job into ${fleetPool} expired: it was created and never started, so none of its users were imported, ` +
        'and Cognito deleted its CSV.',
      which,
      completions(logGroupName, 'status = "Expired"', true),
      jobsNow,
      'To do: create the job again and start it (StartUserImportJob) within a day.',
    ],
    expiringJobsAlarm: () => [
      `A user import job into ${fleetPool} was created more than ${awaitingStart.toHumanString()} ago and has not been ` +
        'started: Cognito deletes it, with its CSV, 24 to 48 hours after creation.',
      which,
      `Which job: the Created one, flagged "awaiting start" by ${status}, which lists every job of that pool.`,
      'To do: start it now (StartUserImportJob), or stop it if it is not wanted.',
    ],
    stuckJobsAlarm: () => [
      `A user import job into ${fleetPool} has been Pending, InProgress or Stopping for more than ${stuck.toHumanString()}.`,
      { text: 'Only one import job runs at a time per account: a Pending job may wait behind another, in any pool.', drop: 2 },
      which,
      `Which job: ${status} lists every job of that pool with its counts and age, the stuck one flagged "running".`,
      { text: "Its progress: Cognito's log group /aws/cognito/userpools/<pool id>/<pool name>.", drop: 1 },
      'To do: if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.',
    ],
    failedUsersAlarm: (o) => [
      `A user import job into ${fleetPool} ended Succeeded or Stopped with users that failed to import (at least ` +
        `${o.threshold} in ${periods(o)}): those users are not in the pool.`,
      which,
      completions(logGroupName, 'failedUsers > 0 and status != "Failed"', true),
      jobsNow,
      "To do: read the failed rows in Cognito's log of the job, fix them in a new CSV and import that. A job that ended " +
        'Failed is the JobFailed alarm\'s, not this one\'s.',
    ],
    poolRunsFailedAlarm: (o) => [
      `The import job monitor of fleet ${name} failed to run a user pool ${o.threshold} times in a row: that pool's imports go ` +
        'unwatched; the other pools are still run.',
      which,
      `Look in log group ${logGroupName} for "Pool run failed" with that userPoolId: its error names the call and the cause.`,
      { text: `${causes} TooManyRequestsException: Cognito throttles).`, drop: 1 },
      { text: `A pool that no longer exists is reported for ${GONE_POOL_REPORTED_RUNS} runs, then listed every schedule without paging.`, drop: 2 },
      'To do: fix the cause, or leave the pool out of the fleet.',
    ],
    monitorHealthAlarm: (o) => [
      `The import job monitor of fleet ${name} (${source}) had ${ticks(o)} in ${periods(o)}: it did not run, its ticks ` +
        'failed before running its pools (listing them, reading the state table) or could not store how they went, or it ' +
        'fell behind by more than the schedule, so failed or expired imports may go unnoticed.',
      { text: "Pools whose runs fail, even every pool, are the PoolRunsFailed alarm's.", drop: 2 },
      `Look in log group ${logGroupName} for "Run failed": the error names the call and the cause.`,
      { text: '(NotAuthorizedException or AccessDenied: permissions; TimeoutError or a deadline: Cognito or DynamoDB did not answer; ResourceNotFoundException: the state table is gone). "Could not store the failed run": the table refuses writes. "Fleet summary" with "deferred" above 0: raise cognitoRequestsPerSecond or the schedule.', drop: 1 },
      'No such line: check the schedule rule and the function.',
    ],
  };
}

const secondJob: Sentence = { text: 'While this alarm is in ALARM a second job sends no new page: the query lists every one.', drop: 3 };
const causes = '(ResourceNotFoundException: the pool is gone; NotAuthorizedException or AccessDenied: permissions;';

/** Where the completed jobs are listed: a Logs Insights query, or, where it does not fit, the lines to look for. */
function completions(logGroupName: string, filter: string, fleet: boolean): Sentence {
  return {
    text: `Which jobs: CloudWatch Logs Insights on log group ${logGroupName}: fields @timestamp, ${fleet ? 'userPoolId, ' : ''}` +
      'jobId, jobName, importedUsers, failedUsers, completionMessage | filter message = "Import job completed" and ' +
      `${filter} | sort @timestamp desc.`,
    drop: 1,
    instead: `Which jobs: the "Import job completed" lines of log group ${logGroupName}.`,
  };
}

function ticks(o: ResolvedAlarmOptions): string {
  return o.threshold === 1 ? 'no tick that worked' : `fewer than ${o.threshold} ticks that worked`;
}

function periods(o: ResolvedAlarmOptions): string {
  return `${o.datapointsToAlarm} of ${o.evaluationPeriods} periods of ${o.period.toHumanString()}`;
}
