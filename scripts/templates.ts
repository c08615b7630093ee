// `npm run templates -- DIR`: synthesizes the example app and a spread of monitors (a cross-region pool, listed and
// discovered fleets, every option set) and writes each template to DIR as sorted JSON, asset hashes scrubbed. A change
// that only moves code must leave them as they were: run it before and after, then `diff -r BEFORE AFTER`.
import * as fs from 'fs';
import * as path from 'path';
import {
  App,
  Duration,
  RemovalPolicy,
  Stack,
  aws_cloudwatch_actions as actions,
  aws_cognito as cognito,
  aws_events as events,
  aws_logs as logs,
  aws_sns as sns,
} from 'aws-cdk-lib';
import { ExampleStack } from '../bin/example-stack';
import { ImportJobMonitor, ImportJobMonitorProps, ImportJobStatus } from '../lib';

const outDir = process.argv[2];
if (!outDir) throw new Error('usage: npm run templates -- DIR');
fs.mkdirSync(outDir, { recursive: true });
const CONTEXT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;
const ENV = { account: '123456789012', region: 'eu-west-1' };

/**
 * Keys sorted, every 64-hex asset hash replaced, and the hash a function's version takes from its code: the template
 * as a diff should read it, whatever the handler bundle (whose behaviour its own tests hold).
 */
function scrub(text: string): string {
  return text.replace(/[0-9a-f]{64}/g, '<asset hash>').replace(/(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}/g, '$1<code hash>');
}

function normalize(value: unknown): unknown {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [scrub(k), normalize((value as any)[k])]));
  }
  return value;
}

function write(name: string, stack: Stack): void {
  const template = App.of(stack)!.synth().getStackByName(stack.stackName).template;
  fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(normalize(template), null, 1) + '\n');
}

function monitor(name: string, make: (stack: Stack) => Partial<ImportJobMonitorProps>, after?: (m: ImportJobMonitor, s: Stack) => void): void {
  const stack = new Stack(new App({ context: CONTEXT }), name, { env: ENV });
  const m = new ImportJobMonitor(stack, 'Monitor', make(stack) as ImportJobMonitorProps);
  after?.(m, stack);
  write(name, stack);
}

const pool = (stack: Stack, id = 'eu-west-1_AbC123') => cognito.UserPool.fromUserPoolId(stack, `Pool${id}`, id);
let topics = 0;
const topic = (stack: Stack) => new actions.SnsAction(new sns.Topic(stack, `Topic${++topics}`));

write('example-new-pool', new ExampleStack(new App({ context: CONTEXT }), 'ExampleNew'));
write('example-existing-pool', new ExampleStack(new App({ context: CONTEXT }), 'ExampleExisting', { userPoolId: 'eu-west-1_AbC123' }));
write('example-fleet', new ExampleStack(new App({ context: CONTEXT }), 'ExampleFleet', { fleet: true }));
monitor('cross-region-pool', (s) => ({ userPool: pool(s, 'us-east-1_XyZ789'), alarmActions: [topic(s)] }));
monitor('single-every-option', (s) => ({
  userPool: pool(s),
  schedule: Duration.minutes(30),
  activeSchedule: Duration.minutes(2),
  metricNamespace: 'Custom/Imports',
  alarmActions: [topic(s)],
  okActions: [topic(s)],
  alarmNamePrefix: 'Prod-Imports',
  failedJobsAlarmOptions: { period: Duration.minutes(5), evaluationPeriods: 3, datapointsToAlarm: 2, threshold: 2 },
  expiredJobsAlarmOptions: { enabled: false },
  monitorHealthAlarmOptions: { period: Duration.hours(1), evaluationPeriods: 2 },
  awaitingStartWarning: Duration.hours(6),
  stuckWarning: Duration.hours(3),
  failedUsersAlarmOptions: { threshold: 10 },
  createDashboard: true,
  logRetention: logs.RetentionDays.ONE_WEEK,
  removalPolicy: RemovalPolicy.RETAIN,
  eventBus: new events.EventBus(s, 'Bus'),
}), (m) => {
  m.onJobStateChange('Failures', { statuses: [ImportJobStatus.FAILED, ImportJobStatus.EXPIRED] });
});
monitor('single-deprecated-and-off', (s) => ({
  userPool: pool(s),
  alarmAction: topic(s),
  enableFailedJobsAlarm: false,
  enableMonitorHealthAlarm: true,
  runOnDeploy: false,
  jobEvents: false,
  stuckJobsAlarmOptions: { enabled: false },
}));
monitor('single-new-pool', (s) => ({ userPool: new cognito.UserPool(s, 'NewPool'), createDashboard: true }));
monitor('fleet-listed', (s) => ({
  userPools: [pool(s), pool(s, 'us-east-1_XyZ789'), new cognito.UserPool(s, 'NewPool')],
  alarmActions: [topic(s)],
  createDashboard: true,
  cognitoRequestsPerSecond: 5,
}), (m) => {
  m.onJobStateChange('Failures', { statuses: [ImportJobStatus.FAILED] });
  m.onPoolRunFailed('PoolRuns');
});
monitor('fleet-listed-150', (s) => ({
  userPools: Array.from({ length: 150 }, (_, i) => pool(s, `${i % 2 ? 'eu-west-1' : 'us-east-1'}_Pool${String(i).padStart(4, '0')}`)),
  monitorName: 'many-pools',
}));
monitor('fleet-discovered', () => ({
  discoverUserPools: { include: ['tenant-*'], exclude: ['*-sandbox'] },
  schedule: Duration.minutes(60),
  activeSchedule: Duration.minutes(5),
  poolRunsFailedAlarmOptions: { evaluationPeriods: 4, datapointsToAlarm: 3 },
  createDashboard: true,
  jobEvents: false,
}));
console.log(`templates written to ${outDir}: ${fs.readdirSync(outDir).join(', ')}`);
