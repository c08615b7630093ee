/**
 * What each alarm tells the person it pages: what happened, which pool and job, where to look, what to do. One table
 * for a single pool, one for a fleet (whose alarms name each pool as a contributor), with the same keys.
 */
import { Duration } from 'aws-cdk-lib';
import { AlarmKey } from './alarm-specs';
import { ResolvedAlarmOptions } from './validate';

/** What the descriptions name besides the alarm's own options. */
export interface DescriptionContext {
  readonly logGroupName: string;
  readonly awaitingStart: Duration;
  readonly stuck: Duration;
}

export type Describe = (options: ResolvedAlarmOptions) => string;
export type Descriptions = Partial<Record<AlarmKey, Describe>>;

/** The alarms of a single pool's monitor. */
export function singlePoolDescriptions(pool: string, { logGroupName, awaitingStart, stuck }: DescriptionContext): Descriptions {
  const transitions = (status: string) =>
    `Which jobs: CloudWatch Logs Insights on log group ${logGroupName}: fields @timestamp, jobId, jobName, ` +
    `importedUsers, failedUsers, completionMessage | filter message = "Import job completed" and status = "${status}" ` +
    `| sort @timestamp desc. Cognito's own log of a job: log group /aws/cognito/userpools/${pool}/<pool name>, ` +
    'stream <job ID>/<job name>. While this alarm is in ALARM a second job sends no new page: the query lists every one.';
  return {
    failedJobsAlarm: () =>
      `A user import job into Cognito user pool ${pool} ended Failed: its users were not all imported. ` +
      `${transitions('Failed')} To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, ` +
      'then create and start a new import job.',
    expiredJobsAlarm: () =>
      `A user import job into Cognito user pool ${pool} expired: it was created and never started, so none of its ` +
      `users were imported, and Cognito deleted its CSV. ${transitions('Expired')} To do: create the job again and ` +
      'start it (StartUserImportJob) within a day.',
    expiringJobsAlarm: () =>
      `A user import job into Cognito user pool ${pool} was created more than ${awaitingStart.toHumanString()} ago and ` +
      'has not been started: Cognito deletes it, with its CSV, 24 to 48 hours after creation. Which job: the ' +
      `Created jobs of the pool (aws cognito-idp list-user-import-jobs --user-pool-id ${pool} --max-results 60). ` +
      'To do: start it now (StartUserImportJob), or stop it if it is not wanted.',
    stuckJobsAlarm: () =>
      `A user import job into Cognito user pool ${pool} has been Pending, InProgress or Stopping for more than ` +
      `${stuck.toHumanString()}. Only one import job runs at a time per account: a Pending job may wait behind ` +
      `another. Which job: aws cognito-idp list-user-import-jobs --user-pool-id ${pool} --max-results 60; its ` +
      `progress: Cognito's log group /aws/cognito/userpools/${pool}/<pool name>, stream <job ID>/<job name>. ` +
      'To do: if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.',
    failedUsersAlarm: (o) =>
      `Users failed to import into Cognito user pool ${pool} (FailedUsers >= ${o.threshold}), perhaps in ` +
      `a job that still ended Succeeded. ${transitions('Succeeded')} To do: read the failed rows in Cognito's log of ` +
      'the job, fix them in a new CSV and import that.',
    monitorHealthAlarm: (o) =>
      `The import job monitor of Cognito user pool ${pool} completed ${o.threshold === 1 ? 'no run' : `fewer than ${o.threshold} runs`} ` +
      `in ${periods(o)}, so failed or ` +
      `expired imports would go unnoticed. Look in log group ${logGroupName} for "Run failed": its error names ` +
      'the call and the cause (ResourceNotFoundException: the pool is gone; NotAuthorizedException or AccessDenied: ' +
      'permissions; TimeoutError or a deadline: Cognito or DynamoDB did not answer; "could not store": the state ' +
      'table refuses writes; "could not send ... job events": the event bus refuses them, which stay owed until it ' +
      'takes them). No such line: check that the schedule rule is enabled and the function exists.',
  };
}

/** The alarms of a fleet's monitor: `name` is the fleet's, `source` the prop its pools came from. */
export function fleetDescriptions(name: string, source: string, { logGroupName, awaitingStart, stuck }: DescriptionContext): Descriptions {
  const which = 'Which pool: this alarm\'s contributors (its state reason, and the alarm\'s page in the CloudWatch console) name each ' +
    'pool in ALARM by its UserPoolId; each pool is a contributor of its own.';
  const transitions = (status: string) =>
    `Which jobs: CloudWatch Logs Insights on log group ${logGroupName}: fields @timestamp, userPoolId, jobId, jobName, ` +
    `importedUsers, failedUsers, completionMessage | filter message = "Import job completed" and status = "${status}" ` +
    '| sort @timestamp desc. Cognito\'s own log of a job: /aws/cognito/userpools/<pool id>/<pool name>, stream <job ID>/<job name>.';
  const list = 'aws cognito-idp list-user-import-jobs --user-pool-id <pool id> --max-results 60';
  return {
    failedJobsAlarm: () =>
      `A user import job into a Cognito user pool of fleet ${name} ended Failed: its users were not all imported. ${which} ` +
      `${transitions('Failed')} To do: read the job's CompletionMessage and Cognito log, fix the CSV or the pool, then create and ` +
      'start a new import job.',
    expiredJobsAlarm: () =>
      `A user import job into a Cognito user pool of fleet ${name} expired: it was created and never started, so none of ` +
      `its users were imported, and Cognito deleted its CSV. ${which} ${transitions('Expired')} To do: create the job again ` +
      'and start it (StartUserImportJob) within a day.',
    expiringJobsAlarm: () =>
      `A user import job into a Cognito user pool of fleet ${name} was created more than ${awaitingStart.toHumanString()} ago ` +
      `and has not been started: Cognito deletes it, with its CSV, 24 to 48 hours after creation. ${which} Which job: the Created ` +
      `jobs of that pool (${list}). To do: start it now (StartUserImportJob), or stop it if it is not wanted.`,
    stuckJobsAlarm: () =>
      `A user import job into a Cognito user pool of fleet ${name} has been Pending, InProgress or Stopping for more than ` +
      `${stuck.toHumanString()}. Only one import job runs at a time per account: a Pending job may wait behind another, in any ` +
      `pool. ${which} Which job: ${list}; its progress: Cognito's log group /aws/cognito/userpools/<pool id>/<pool name>. To do: ` +
      'if its counts no longer grow, stop it (StopUserImportJob) and import the rest again.',
    failedUsersAlarm: (o) => `Users failed to import into a Cognito user pool of fleet ${name} (FailedUsers >= ${o.threshold}), ` +
      `perhaps in a job that still ended Succeeded. ${which} ${transitions('Succeeded')} To do: read the failed rows in ` +
      'Cognito\'s log of the job, fix them in a new CSV and import that.',
    poolRunsFailedAlarm: (o) => `The import job monitor of fleet ${name} failed to run a user pool in ` +
      `${periods(o)}: that pool's imports go unwatched; ` +
      `the other pools are still run. ${which} Look in log group ${logGroupName} for "Run failed" with that userPoolId: its error ` +
      'names the call and the cause (ResourceNotFoundException: the pool is gone; NotAuthorizedException or AccessDenied: ' +
      'permissions; TooManyRequestsException: Cognito throttles). To do: fix the cause, or leave the pool out of the fleet.',
    monitorHealthAlarm: (o) =>
      `The import job monitor of fleet ${name} (${source}) completed ${o.threshold === 1 ? 'no tick' : `fewer than ${o.threshold} ticks`} ` +
      `in ${periods(o)} that ran ` +
      'every due user pool in time, not all failing, so failed or expired imports may go unnoticed. A pool that keeps ' +
      `failing is the PoolRunsFailed alarm's. Look in log group ${logGroupName} for "Run failed" and "Pool run failed": the ` +
      'error names the call, pool and cause (ResourceNotFoundException: pool gone; NotAuthorizedException or AccessDenied: ' +
      'permissions; TimeoutError or a deadline: Cognito or DynamoDB did not answer; "could not store": table refuses writes; ' +
      '"could not send ... job events": bus refuses them). "Fleet summary" with "deferred" above 0: more due pools than a ' +
      'tick lists; raise cognitoRequestsPerSecond or the schedule. No such line: check the schedule rule and the function.',
  };
}

function periods(o: ResolvedAlarmOptions): string {
  return `${o.datapointsToAlarm} of ${o.evaluationPeriods} periods of ${o.period.toHumanString()}`;
}
