// One pool: a monitor on a Cognito user pool whose failures page one SNS topic and whose warnings go to another,
// a dashboard of its widgets, and an EventBridge rule that sends a message for each job that failed or expired.
//
// Run it (no AWS credentials needed to synthesize):
//   npx tsx --tsconfig examples/tsconfig.json examples/one-pool.ts
//   npx cdk synth --app "npx tsx --tsconfig examples/tsconfig.json examples/one-pool.ts" -c userPoolId=eu-west-1_AbC123
// Without `-c userPoolId=...` the stack creates a new pool to monitor; with it, it monitors that existing pool,
// which may be in any region of the account.
import {
  App,
  Duration,
  Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as actions,
  aws_cognito as cognito,
  aws_events as events,
  aws_events_targets as targets,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { ImportJobMonitor, ImportJobStatus } from 'import-job-monitor';

export const app = new App();
const stack = new Stack(app, 'ImportJobsOnePool', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'eu-west-1' },
});

const userPoolId: string | undefined = app.node.tryGetContext('userPoolId');
const userPool = userPoolId
  ? cognito.UserPool.fromUserPoolId(stack, 'UserPool', userPoolId)
  : new cognito.UserPool(stack, 'UserPool', { mfa: cognito.Mfa.OPTIONAL, mfaSecondFactor: { otp: true, sms: false } });

// Subscribe your pager (an e-mail, a chat webhook, an incident tool) to the first, a ticket queue to the second.
const pager = new sns.Topic(stack, 'Pager', { enforceSSL: true });
const tickets = new sns.Topic(stack, 'Tickets', { enforceSSL: true });

const monitor = new ImportJobMonitor(stack, 'ImportJobs', {
  userPool,
  // Failures, imports lost or unwatched: JobFailed, JobExpired, MonitorSilent.
  alarmActions: [new actions.SnsAction(pager)],
  // Warnings, a job that can still be saved: JobAwaitingStart, JobStuck, UsersFailed. Without warningActions
  // they would page too.
  warningActions: [new actions.SnsAction(tickets)],
});

// The monitor's widgets on a dashboard of your own, beside a number of your own; `createDashboard: true` would
// instead give the monitor a dashboard of its own with the same widgets.
new cloudwatch.Dashboard(stack, 'Dashboard', {
  widgets: [
    monitor.widgets(),
    [
      new cloudwatch.SingleValueWidget({
        title: 'Users imported, last 24 hours',
        metrics: [monitor.metricImportedUsers({ period: Duration.days(1) })],
        width: 8,
      }),
    ],
  ],
});

// An alarm pages once for all the jobs that failed in its window; the job events name each job. This rule sends
// one message per failed or expired job to the ticket queue (the event's detail has more: the user counts,
// Cognito's completion message, where Cognito logged the job; see docs/events.md).
monitor.onJobStateChange('JobFailedOrExpired', {
  description: 'A Cognito user import job failed or expired',
  statuses: [ImportJobStatus.FAILED, ImportJobStatus.EXPIRED],
  target: new targets.SnsTopic(tickets, {
    message: events.RuleTargetInput.fromText(
      `Import job ${events.EventField.fromPath('$.detail.jobName')} (${events.EventField.fromPath('$.detail.jobId')}) ` +
        `of user pool ${events.EventField.fromPath('$.detail.userPoolId')} is ${events.EventField.fromPath('$.detail.status')}`,
    ),
  }),
});

app.synth();
