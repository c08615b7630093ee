// Proves the oldest aws-cdk-lib and constructs the package declares: packs the library as it would be
// published, installs the tarball into a new TypeScript app pinned to exactly those versions, type-checks
// the app against them, synthesizes it, and checks that every function it deploys runs on a runtime AWS Lambda still
// creates functions on. Needs the npm registry.
//
//   npm run check-floor                            the floor in package.json's peerDependencies
//   npm run check-floor -- --cdk 2.200.0           another aws-cdk-lib version
//   npm run check-floor -- --tarball x.tgz         a tarball packed already
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const floorOf = (range) => {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!match) throw new Error(`peerDependencies must be caret ranges such as ^2.180.0, got ${JSON.stringify(range)}`);
  return match[1];
};
const { values } = parseArgs({ options: { cdk: { type: 'string' }, constructs: { type: 'string' }, tarball: { type: 'string' } } });
const cdkVersion = values.cdk ?? floorOf(pkg.peerDependencies['aws-cdk-lib']);
const constructsVersion = values.constructs ?? floorOf(pkg.peerDependencies.constructs);
const typescriptVersion = pkg.devDependencies.typescript;

const APP = `
import * as fs from 'fs';
import { App, Duration, Stack, aws_cloudwatch_actions as actions, aws_cognito as cognito, aws_events_targets as targets, aws_sns as sns } from 'aws-cdk-lib';
import { ImportJobMonitor, ImportJobStatus } from 'import-job-monitor';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Floor', { env: { account: '123456789012', region: 'us-east-1' } });
const monitor = new ImportJobMonitor(stack, 'Monitor', {
  userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'),
  schedule: Duration.minutes(10),
  alarmActions: [new actions.SnsAction(new sns.Topic(stack, 'Pager'))],
  createDashboard: true,
});
monitor.metricJobs(ImportJobStatus.FAILED);
monitor.onJobStateChange('FailedJobs', { target: new targets.SnsTopic(new sns.Topic(stack, 'Failures')), statuses: [ImportJobStatus.FAILED] });
// Fleets: every pool of the account and region, and a list too long for the function's environment.
const fleetStack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
new ImportJobMonitor(fleetStack, 'Tenants', { discoverUserPools: { exclude: ['*-sandbox'] }, metricNamespace: 'Tenants/Imports' });
new ImportJobMonitor(fleetStack, 'Listed', {
  userPools: Array.from({ length: 1000 }, (_, i) => cognito.UserPool.fromUserPoolId(fleetStack, 'Pool' + i, 'eu-west-1_Pool' + i)),
  metricNamespace: 'Listed/Imports',
});
const assembly = app.synth();
// Every function of every stack, the library's and aws-cdk-lib's own (the deployment run's trigger provider), with
// its runtime: a template that synthesizes may still not deploy, if AWS no longer creates functions on a runtime.
const runtimes = app.node.children.filter((c): c is Stack => c instanceof Stack).flatMap((s) =>
  Object.entries(assembly.getStackByName(s.stackName).template.Resources as Record<string, { Type: string; Properties: any }>)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([id, r]) => ({ function: s.stackName + '/' + id, runtime: r.Properties.Runtime })));
const template = assembly.getStackByName('Floor').template;
const fleetResources = Object.values(assembly.getStackByName('Fleet').template.Resources) as { Type: string; Properties: any }[];
const resources = Object.values(template.Resources) as { Type: string; Properties: any }[];
const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler');
const table = resources.find((r) => r.Type === 'AWS::DynamoDB::Table');
// Props an older aws-cdk-lib does not know are dropped without a word: look for what each one makes.
console.log(JSON.stringify({
  runtimes,
  runtime: functions[0]?.Properties.Runtime,
  ownLogGroup: functions[0]?.Properties.LoggingConfig?.LogGroup !== undefined,
  pointInTimeRecovery: table?.Properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
  deployRuns: resources.filter((r) => r.Type === 'Custom::Trigger').length,
  dashboards: resources.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard').length,
  alarms: resources.filter((r) => r.Type.startsWith('AWS::CloudWatch::') && r.Type.endsWith('Alarm')).length,
  eventBusEnv: functions[0]?.Properties.Environment?.Variables?.EVENT_BUS_NAME !== undefined,
  jobEventRules: resources.filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern?.detail?.status?.[0] === 'Failed' && r.Properties.Targets?.length === 1).length,
  fleetQueryAlarms: fleetResources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && /^SELECT .* GROUP BY UserPoolId/.test(r.Properties.Metrics?.[0]?.Expression ?? '') && r.Properties.Metrics[0].Period > 0).length,
  fleetFunctions: fleetResources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler').length,
  poolsFiles: fs.readdirSync('cdk.out').filter((d) => d.startsWith('asset.') && fs.existsSync('cdk.out/' + d + '/user-pools.json')).length,
  handlerAssets: fs.readdirSync('cdk.out').filter((d) => {
    const file = 'cdk.out/' + d + '/index.js';
    return d.startsWith('asset.') && fs.existsSync(file) && fs.readFileSync(file).equals(fs.readFileSync(require.resolve('import-job-monitor/assets/handler/index.js')));
  }).length,
}));
`;

// The Lambda runtimes AWS still creates functions on, and the day it stops (null: none announced), from AWS Lambda's
// runtime deprecation table: nodejs18.x is blocked for new functions since early 2026 and nodejs20.x since 2026-08-31.
// aws-cdk-lib's own providers (the trigger behind runOnDeploy) take the newest runtime it knew of at its release:
// nodejs18.x up to 2.178, nodejs20.x up to 2.196.1, nodejs22.x from 2.197.0. When a date below passes, this check
// fails until the floor is raised to a release whose every function runs on a runtime still listed.
const CREATABLE_UNTIL = { 'nodejs22.x': '2027-06-01', 'nodejs24.x': null };

// The build that prepack runs prints to the same stdout, before npm's JSON.
const packedName = (out) => JSON.parse(out.slice(out.indexOf('[\n  {')))[0].filename;

const app = fs.mkdtempSync(path.join(os.tmpdir(), 'floor-'));
process.on('uncaughtException', (error) => {
  console.error(`floor check failed: ${error.message}`);
  process.exit(1);
});
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
try {
  const tarball = values.tarball
    ? path.resolve(values.tarball)
    : path.join(app, packedName(run('npm', ['pack', '--json', '--pack-destination', app], { cwd: root })));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'floor-app', private: true }));
  run('npm', [
    'install', '--no-audit', '--no-fund', '--save-exact',
    tarball, `aws-cdk-lib@${cdkVersion}`, `constructs@${constructsVersion}`, `typescript@${typescriptVersion}`, '@types/node@20',
  ]);
  const installed = (name) => JSON.parse(fs.readFileSync(path.join(app, 'node_modules', name, 'package.json'), 'utf8')).version;
  if (installed('aws-cdk-lib') !== cdkVersion) {
    throw new Error(`npm installed aws-cdk-lib ${installed('aws-cdk-lib')}, not ${cdkVersion}`);
  }
  fs.writeFileSync(path.join(app, 'app.ts'), APP);
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2020', module: 'commonjs', strict: true, outDir: 'out', types: ['node'], skipLibCheck: false },
    files: ['app.ts'],
  }));
  try {
    run(path.join(app, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);
  } catch (error) {
    throw new Error(`the app does not type-check against aws-cdk-lib ${cdkVersion}:\n${error.stdout}${error.stderr}`);
  }
  const { runtimes, ...out } = JSON.parse(run(process.execPath, ['out/app.js']));
  const blocked = runtimes.filter(({ runtime }) => !(runtime in CREATABLE_UNTIL) || (CREATABLE_UNTIL[runtime] !== null && new Date() >= new Date(CREATABLE_UNTIL[runtime])));
  if (runtimes.length === 0 || blocked.length > 0) {
    throw new Error(
      `on aws-cdk-lib ${cdkVersion}, ${blocked.map((f) => `${f.function} runs on ${JSON.stringify(f.runtime)}`).join(', ') || 'no function was found'}: ` +
        `AWS Lambda creates functions on ${Object.keys(CREATABLE_UNTIL).join(' and ')} only (see CREATABLE_UNTIL); raise the floor to a release whose every function does`,
    );
  }
  const expected = {
    runtime: 'nodejs24.x', ownLogGroup: true, pointInTimeRecovery: true, alarms: 6, deployRuns: 1, dashboards: 1, handlerAssets: 2, eventBusEnv: true,
    jobEventRules: 1, fleetQueryAlarms: 12, fleetFunctions: 2, poolsFiles: 1,
  };
  for (const [key, value] of Object.entries(expected)) {
    if (out[key] !== value) throw new Error(`on aws-cdk-lib ${cdkVersion}, ${key} is ${out[key]}, expected ${value}`);
  }
  console.log(`floor check: aws-cdk-lib ${cdkVersion} and constructs ${constructsVersion} type-check and synthesize the package: ${JSON.stringify(out)}`);
  console.log(`every function on a runtime AWS Lambda creates functions on: ${runtimes.map((f) => `${f.function} ${f.runtime}`).join(', ')}`);
} finally {
  fs.rmSync(app, { recursive: true, force: true });
}
