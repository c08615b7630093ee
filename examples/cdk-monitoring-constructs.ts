// With cdklabs/cdk-monitoring-constructs: the monitor is a dashboard segment (it has `widgets()`,
// `summaryWidgets()` and `alarmWidgets()`), so a `MonitoringFacade` takes it with `addSegment`, beside the other
// resources the facade watches, here the monitor's own function and table. The library does not depend on
// cdk-monitoring-constructs: install it in your app (`npm install cdk-monitoring-constructs`, 10.x).
//
// Run it (no AWS credentials needed to synthesize):
//   npx tsx --tsconfig examples/tsconfig.json examples/cdk-monitoring-constructs.ts
//   npx cdk synth --app "npx tsx --tsconfig examples/tsconfig.json examples/cdk-monitoring-constructs.ts"
import { App, Duration, Stack, aws_cloudwatch_actions as actions, aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { DefaultDashboardFactory, MonitoringFacade, SnsAlarmActionStrategy } from 'cdk-monitoring-constructs';
import { ImportJobMonitor } from 'import-job-monitor';

export const app = new App();
const stack = new Stack(app, 'ImportJobsMonitoringFacade', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'eu-west-1' },
});
const pager = new sns.Topic(stack, 'Pager', { enforceSSL: true });

// The monitor's own alarms page through its props, as without the facade.
const monitor = new ImportJobMonitor(stack, 'ImportJobs', {
  userPool: cognito.UserPool.fromUserPoolId(stack, 'UserPool', 'eu-west-1_AbC123'),
  alarmActions: [new actions.SnsAction(pager)],
});

// The facade's three dashboards: the detailed one gets every widget of the monitor, the summary one its header,
// alarms and jobs in flight, the alarm one the status of its alarms.
const facade = new MonitoringFacade(stack, 'Monitoring', {
  alarmFactoryDefaults: {
    alarmNamePrefix: 'Identity',
    actionsEnabled: true,
    action: new SnsAlarmActionStrategy({ onAlarmTopic: pager }),
  },
  dashboardFactory: new DefaultDashboardFactory(stack, 'Dashboards', {
    dashboardNamePrefix: 'Identity',
    createDashboard: true,
    createSummaryDashboard: true,
    createAlarmDashboard: true,
  }),
});

facade
  .addLargeHeader('Cognito user imports')
  .addSegment(monitor)
  // The function behind the monitor, with the facade's widgets. A failed tick is already MonitorSilent's to report;
  // a tick near its 2-minute timeout is worth a look before it becomes one.
  .monitorLambdaFunction({
    lambdaFunction: monitor.handler,
    humanReadableName: 'Import job monitor function',
    alarmFriendlyName: 'ImportJobMonitorFunction',
    addLatencyP90Alarm: { Warning: { maxLatency: Duration.seconds(90) } },
  })
  .monitorDynamoTable({
    table: monitor.stateTable,
    humanReadableName: 'Import job monitor state',
    alarmFriendlyName: 'ImportJobMonitorState',
  });

app.synth();
