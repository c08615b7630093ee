// A fleet: one monitor for many user pools, with the same function, table, schedule and seven alarms whatever
// their number. Two fleets side by side: every pool of the account and region found again on each run
// (`discoverUserPools`, narrowed by patterns), and a fixed list (`userPools`) in a namespace of its own; then the
// fleet's metric accessors, which are Metrics Insights queries with a series per pool, on a dashboard and in an
// alarm of your own.
//
// Run it (no AWS credentials needed to synthesize):
//   npx tsx --tsconfig examples/tsconfig.json examples/fleet.ts
//   npx cdk synth --app "npx tsx --tsconfig examples/tsconfig.json examples/fleet.ts"
import {
  App,
  Duration,
  Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as actions,
  aws_cognito as cognito,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { ImportJobMonitor, ImportJobStatus } from 'import-job-monitor';

export const app = new App();
// Discovery lists the pools of the stack's own account and region (Cognito's ListUserPools), so give it a region.
const stack = new Stack(app, 'ImportJobsFleet', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'eu-west-1' },
});
const pager = new actions.SnsAction(new sns.Topic(stack, 'Pager', { enforceSSL: true }));

// Every tenant pool, by ID or name, but the sandboxes and the load-test pools: a pool created tomorrow is watched
// from the next run on, with no deployment, and a deleted one drops out. `*` stands for any run of characters; a
// pattern without one must match a whole ID or name.
const tenants = new ImportJobMonitor(stack, 'Tenants', {
  discoverUserPools: { include: ['tenant-*'], exclude: ['*-sandbox', 'tenant-loadtest-*'] },
  alarmActions: [pager],
});

// A fixed list, here of pools named by ID (pools created in the same app work too). A fleet's alarms query every
// pool in its namespace, so a second fleet in the same account and region takes a namespace of its own: without
// one, synth fails, naming both monitors.
const partners = new ImportJobMonitor(stack, 'Partners', {
  userPools: ['eu-west-1_PaRtNeR1', 'eu-west-1_PaRtNeR2', 'eu-west-1_PaRtNeR3'].map((id) =>
    cognito.UserPool.fromUserPoolId(stack, `Pool-${id}`, id),
  ),
  metricNamespace: 'Partners/UserImportJobs',
  alarmActions: [pager],
  // Both fleets share Cognito's read quota (15 calls a second per account and region): give each a part of it.
  cognitoRequestsPerSecond: 5,
});

// The fleet's accessors: `metricFleet...` return Metrics Insights queries, a series per pool with news
// (`byPool: false` for one series over the fleet). A single pool's `metricJobs(...)` would fail on a fleet.
new cloudwatch.Dashboard(stack, 'Dashboard', {
  widgets: [
    tenants.widgets(),
    [
      new cloudwatch.GraphWidget({
        title: 'Tenants: jobs importing, by pool',
        left: [tenants.metricFleetJobs(ImportJobStatus.IN_PROGRESS)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Users imported, all tenants and all partners',
        left: [
          tenants.metricFleetImportedUsers({ byPool: false, label: 'Tenants' }),
          partners.metricFleetImportedUsers({ byPool: false, label: 'Partners' }),
        ],
        right: [tenants.metricPoolsMonitored({ label: 'Tenant pools monitored' })],
        width: 12,
      }),
    ],
  ],
});

// An alarm of your own on a fleet's query: a partner pool with more than 5 jobs stopped in an hour, each such pool
// named as a contributor. Metrics Insights alarms evaluate the latest 3 hours at most: period times evaluation
// periods must stay within them.
new cloudwatch.Alarm(stack, 'PartnerJobsStopped', {
  alarmDescription: 'A partner stopped more than 5 import jobs of a pool within an hour: ask them why.',
  metric: partners.metricFleetJobsCompleted(ImportJobStatus.STOPPED, { period: Duration.hours(1) }),
  threshold: 5,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  evaluationPeriods: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
});

app.synth();
