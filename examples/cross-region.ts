// Across regions: a stack in us-east-1 that monitors user pools in eu-west-1 and ap-southeast-2.
//
// A pool's ID names its region (`eu-west-1_AbC123`), and the monitor follows it: its function, which runs in the
// stack's region, calls Cognito in each pool's own region, and its role may list the import jobs of those pools
// only, by their ARNs in their regions. The metrics, alarms, dashboard and job events stay in the stack's region,
// beside the function: one place to look at, whatever region a pool is in. The pools must be in the stack's
// account: Cognito lists a pool's import jobs to its own account only.
//
// Both ways work across regions: one monitor per pool (`userPool`), each with its own alarms named after its pool,
// and a listed fleet (`userPools`), one function for pools in any regions. What does not: `discoverUserPools`
// finds the pools of the stack's own region only; to discover pools in several regions, deploy a discovering
// stack in each of them.
//
// Run it (no AWS credentials needed to synthesize):
//   npx tsx --tsconfig examples/tsconfig.json examples/cross-region.ts
//   npx cdk synth --app "npx tsx --tsconfig examples/tsconfig.json examples/cross-region.ts"
import { App, Stack, aws_cloudwatch_actions as actions, aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { ImportJobMonitor } from 'import-job-monitor';

export const app = new App();
const stack = new Stack(app, 'ImportJobsCrossRegion', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: 'us-east-1' },
});
const pager = new actions.SnsAction(new sns.Topic(stack, 'Pager', { enforceSSL: true }));

// The customer pools, one monitor each: alarms named `ImportJobs-<pool ID>-JobFailed`, a dashboard each whose
// links open the pool in the Cognito console of its region.
for (const userPoolId of ['eu-west-1_CuStOmErS', 'ap-southeast-2_CuStOmErS']) {
  const region = userPoolId.split('_')[0];
  new ImportJobMonitor(stack, `Customers-${region}`, {
    userPool: cognito.UserPool.fromUserPoolId(stack, `CustomersPool-${region}`, userPoolId),
    alarmActions: [pager],
    createDashboard: true,
  });
}

// The tenant pools of both regions, one fleet: one function, one table, seven alarms, each alarm naming the pools
// in ALARM as its contributors. A fleet's alarms query every pool in its namespace, so it takes one of its own
// beside the customer pools' monitors. Its function keeps a Cognito client per region, each paced to Cognito's
// quota of that region.
new ImportJobMonitor(stack, 'Tenants', {
  userPools: ['eu-west-1_TeNaNt01', 'eu-west-1_TeNaNt02', 'ap-southeast-2_TeNaNt03'].map((id) =>
    cognito.UserPool.fromUserPoolId(stack, `TenantPool-${id}`, id),
  ),
  metricNamespace: 'Tenants/UserImportJobs',
  alarmActions: [pager],
});

app.synth();
