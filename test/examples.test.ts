// The apps in examples/ compile against the library's types and synthesize what each says it shows. They import
// the library as a user would, `from 'import-job-monitor'`: examples/tsconfig.json maps that name to lib/ for tsc
// and tsx, and the mock below does the same for jest. Each is required in this process (its top level builds an App
// and synthesizes it; each exports that App) rather than spawned with tsx, which takes seconds apiece: one run with
// tsx is enough to prove the command examples/README.md gives.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

jest.mock('import-job-monitor', () => jest.requireActual('../lib'), { virtual: true });

const ROOT = path.join(__dirname, '..');
const EXAMPLES = ['one-pool', 'fleet', 'cross-region', 'cdk-monitoring-constructs'];

/** Where the apps write their cloud assemblies, as `cdk synth` would in cdk.out; removed after the suite. */
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function outdir(name: string): string {
  outdirs.push(fs.mkdtempSync(path.join(os.tmpdir(), `example-${name}-`)));
  return outdirs[outdirs.length - 1];
}

/** The example's App: requiring the file builds it and synthesizes it; the file exports it. */
function runExample(name: string): App {
  process.env.CDK_OUTDIR = outdir(name);
  try {
    // A require, not an import: tsconfig.dev.json, which type-checks test/, knows no 'import-job-monitor'. One module
    // registry for all four, since loading aws-cdk-lib again for each (jest.isolateModules) costs seconds apiece.
    return require(path.join(ROOT, 'examples', name)).app;
  } finally {
    delete process.env.CDK_OUTDIR;
  }
}

/** A child process's exit code and output, never a rejection. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, env }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }),
    );
  });
}

/** The stack's template, from the assembly the example synthesized, and the warnings and errors synth reported. */
function synthesized(app: App, stackName: string) {
  const stack = app.synth().getStackByName(stackName);
  const problems = stack.messages.filter((m) => m.level !== 'info').map((m) => `${m.id}: ${m.entry.data}`);
  return { template: Template.fromJSON(stack.template), region: stack.environment.region, problems };
}

/** A string, or a CloudFormation join of strings and references, as text with each reference as `<logical ID>`. */
function render(value: any): string {
  return typeof value === 'string' ? value : value['Fn::Join'][1].map((p: any) => (typeof p === 'string' ? p : `<${p.Ref}>`)).join('');
}

/** Each alarm's properties by its name (a reference in it as `<logical ID>`), or by its logical ID when it has none. */
function alarmsByName(template: Template): Record<string, any> {
  const alarms: Record<string, any> = {};
  for (const [id, alarm] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
    alarms[render(alarm.Properties.AlarmName ?? id)] = alarm.Properties;
  }
  return alarms;
}

function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The functions' environments, keyed by the logical ID of each function with a METRIC_NAMESPACE (the monitors'). */
function monitorEnvironments(template: Template): Record<string, Record<string, unknown>> {
  const environments: Record<string, Record<string, unknown>> = {};
  for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    const variables = fn.Properties.Environment?.Variables;
    if (variables?.METRIC_NAMESPACE) environments[id] = variables;
  }
  return environments;
}

/** Every Cognito ARN the stack's policies allow, with CloudFormation's partition and account references as `<...>`. */
function cognitoResources(template: Template): string[] {
  const resources: string[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      const actions = [statement.Action].flat();
      if (!actions.some((a: string) => a.startsWith('cognito-idp:'))) continue;
      resources.push(...[statement.Resource].flat().map(render));
    }
  }
  return resources;
}

/** A dashboard's body as text, CloudFormation references and all: enough to find its widgets' titles. */
function dashboardBodies(template: Template): Record<string, string> {
  const bodies: Record<string, string> = {};
  for (const [id, dashboard] of Object.entries(template.findResources('AWS::CloudWatch::Dashboard'))) {
    const body = dashboard.Properties.DashboardBody;
    bodies[dashboard.Properties.DashboardName ?? id] = typeof body === 'string' ? body : JSON.stringify(body);
  }
  return bodies;
}

// Two child processes, started when the suite loads and awaited last, so that they run while the apps synthesize in
// this process: tsc on the examples, and one example run exactly as examples/README.md says, with
// `-c userPoolId=...` as the CDK CLI passes it (the in-process run covers the new pool).
const typecheck = run(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(ROOT, 'examples', 'tsconfig.json'), '--noEmit']);
const existingPoolOutdir = outdir('one-pool-existing');
const existingPoolRun = run(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['--tsconfig', 'examples/tsconfig.json', 'examples/one-pool.ts'], {
  ...process.env,
  CDK_OUTDIR: existingPoolOutdir,
  CDK_CONTEXT_JSON: JSON.stringify({ userPoolId: 'eu-west-1_AbC123' }),
});

describe('the examples', () => {
  describe('one-pool.ts', () => {
    let template: Template, problems: string[], alarms: Record<string, any>, pager: string, tickets: string;
    beforeAll(() => {
      ({ template, problems } = synthesized(runExample('one-pool'), 'ImportJobsOnePool'));
      alarms = alarmsByName(template);
      pager = logicalId(template, 'AWS::SNS::Topic', 'Pager');
      tickets = logicalId(template, 'AWS::SNS::Topic', 'Tickets');
    });

    it('synthesizes with no warning, monitoring a pool it creates', () => {
      expect(problems).toEqual([]);
      template.resourceCountIs('AWS::Cognito::UserPool', 1);
    });

    it('pages the Pager topic on the failures, and sends the warnings to the Tickets topic', () => {
      const actionsByAlarm = Object.fromEntries(
        Object.entries(alarms).map(([name, alarm]) => [name.replace(/^.*-/, ''), alarm.AlarmActions]),
      );
      expect(actionsByAlarm).toEqual({
        JobFailed: [{ Ref: pager }],
        JobExpired: [{ Ref: pager }],
        MonitorSilent: [{ Ref: pager }],
        JobAwaitingStart: [{ Ref: tickets }],
        JobStuck: [{ Ref: tickets }],
        UsersFailed: [{ Ref: tickets }],
      });
    });

    it("puts the monitor's widgets and its own number on a dashboard", () => {
      const bodies = Object.values(dashboardBodies(template));
      expect(bodies).toHaveLength(1);
      for (const title of ['### Cognito user import jobs', 'Jobs in flight', 'Latest job transitions', 'Users imported, last 24 hours']) {
        expect(bodies[0]).toContain(title);
      }
    });

    it("routes the pool's failed and expired jobs to the Tickets topic, one message per job", () => {
      const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern);
      expect(rules).toHaveLength(1);
      const { EventPattern, Targets } = rules[0].Properties;
      expect(EventPattern['detail-type']).toEqual(['Cognito User Import Job State Change']);
      expect(EventPattern.detail.status).toEqual(['Failed', 'Expired']);
      expect(Targets).toEqual([expect.objectContaining({ Arn: { Ref: tickets }, InputTransformer: expect.anything() })]);
      expect(Targets[0].InputTransformer.InputTemplate).toContain('<detail-jobName>');
    });

    it('monitors an existing pool instead when given -c userPoolId=, run with tsx as examples/README.md says', async () => {
      const { code, output } = await existingPoolRun;
      expect(output).toBe('');
      expect(code).toBe(0);
      const existing = Template.fromJSON(JSON.parse(fs.readFileSync(path.join(existingPoolOutdir, 'ImportJobsOnePool.template.json'), 'utf8')));
      existing.resourceCountIs('AWS::Cognito::UserPool', 0);
      expect(Object.keys(alarmsByName(existing))).toContain('ImportJobs-eu-west-1_AbC123-JobFailed');
      expect(cognitoResources(existing)).toEqual([
        'arn:<AWS::Partition>:cognito-idp:eu-west-1:<AWS::AccountId>:userpool/eu-west-1_AbC123',
      ]);
    });
  });

  describe('fleet.ts', () => {
    let template: Template, problems: string[], alarms: Record<string, any>, environments: Record<string, unknown>[];
    beforeAll(() => {
      ({ template, problems } = synthesized(runExample('fleet'), 'ImportJobsFleet'));
      alarms = alarmsByName(template);
      environments = Object.values(monitorEnvironments(template));
    });

    it('synthesizes with no warning', () => {
      expect(problems).toEqual([]);
    });

    it("has a discovering fleet's function, with its patterns, and a listed fleet's, in a namespace of its own", () => {
      expect(environments).toHaveLength(2);
      expect(environments).toContainEqual(
        expect.objectContaining({
          DISCOVER_USER_POOLS: JSON.stringify({ include: ['tenant-*'], exclude: ['*-sandbox', 'tenant-loadtest-*'] }),
          METRIC_NAMESPACE: 'Cognito/UserImportJobs',
        }),
      );
      expect(environments).toContainEqual(
        expect.objectContaining({
          USER_POOL_IDS: 'eu-west-1_PaRtNeR1,eu-west-1_PaRtNeR2,eu-west-1_PaRtNeR3',
          METRIC_NAMESPACE: 'Partners/UserImportJobs',
          COGNITO_REQUESTS_PER_SECOND: '5',
        }),
      );
    });

    it("gives each fleet seven alarms on Metrics Insights queries of its namespace, paging the Pager topic", () => {
      const pager = logicalId(template, 'AWS::SNS::Topic', 'Pager');
      for (const [fleet, namespace] of [['Tenants', 'Cognito/UserImportJobs'], ['Partners', 'Partners/UserImportJobs']]) {
        const own = Object.entries(alarms).filter(([name]) => name.startsWith(`ImportJobs-ImportJobsFleet-${fleet}-`));
        expect(own.map(([name]) => name.replace(/^.*-/, '')).sort()).toEqual(
          ['JobAwaitingStart', 'JobExpired', 'JobFailed', 'JobStuck', 'MonitorSilent', 'PoolRunsFailed', 'UsersFailed'],
        );
        for (const [name, alarm] of own) {
          expect(alarm.AlarmActions).toEqual([{ Ref: pager }]);
          if (name.endsWith('-MonitorSilent')) continue; // a plain metric alarm on the fleet's heartbeat
          const queries = alarm.Metrics.map((m: any) => m.Expression).filter(Boolean);
          expect(queries).toEqual([expect.stringMatching(new RegExp(`^SELECT .* FROM SCHEMA\\("${namespace}".* GROUP BY UserPoolId`))]);
        }
      }
    });

    it("draws the fleet accessors' queries, and alarms on one of its own", () => {
      const [body] = Object.values(dashboardBodies(template));
      expect(body).toContain('Tenants: jobs importing, by pool');
      expect(body).toMatch(/SELECT MAX\(Jobs\) FROM SCHEMA\(\\+"Cognito\/UserImportJobs\\+", Status, UserPoolId\) WHERE Status = 'InProgress'/);
      expect(body).toMatch(/SELECT SUM\(ImportedUsers\) FROM SCHEMA\(\\+"Partners\/UserImportJobs\\+"/);
      const stopped = alarms[logicalId(template, 'AWS::CloudWatch::Alarm', 'PartnerJobsStopped')];
      expect(stopped.Metrics[0].Expression).toMatch(/FROM SCHEMA\("Partners\/UserImportJobs".*WHERE Status = 'Stopped' GROUP BY UserPoolId/);
      expect(stopped.Metrics[0].Period).toBe(3600);
    });
  });

  describe('cross-region.ts', () => {
    let template: Template, region: string, problems: string[], environments: Record<string, unknown>[];
    beforeAll(() => {
      ({ template, region, problems } = synthesized(runExample('cross-region'), 'ImportJobsCrossRegion'));
      environments = Object.values(monitorEnvironments(template));
    });

    it('synthesizes a stack in us-east-1 with no warning', () => {
      expect(region).toBe('us-east-1');
      expect(problems).toEqual([]);
    });

    it("lets the functions call Cognito on each pool in its own region, never in the stack's", () => {
      const arn = (id: string) => `arn:<AWS::Partition>:cognito-idp:${id.split('_')[0]}:<AWS::AccountId>:userpool/${id}`;
      expect(cognitoResources(template).sort()).toEqual(
        ['eu-west-1_CuStOmErS', 'ap-southeast-2_CuStOmErS', 'eu-west-1_TeNaNt01', 'eu-west-1_TeNaNt02', 'ap-southeast-2_TeNaNt03'].map(arn).sort(),
      );
    });

    it('has a monitor per customer pool and one fleet for the tenant pools of both regions, each sending events in us-east-1', () => {
      expect(environments.map((e) => e.USER_POOL_ID ?? e.USER_POOL_IDS).sort()).toEqual([
        'ap-southeast-2_CuStOmErS',
        'eu-west-1_CuStOmErS',
        'eu-west-1_TeNaNt01,eu-west-1_TeNaNt02,ap-southeast-2_TeNaNt03',
      ]);
      for (const environment of environments) expect(JSON.stringify(environment.EVENT_BUS_NAME)).toContain(':events:us-east-1:');
      expect(Object.keys(alarmsByName(template))).toEqual(
        expect.arrayContaining(['ImportJobs-eu-west-1_CuStOmErS-JobFailed', 'ImportJobs-ap-southeast-2_CuStOmErS-JobFailed', 'ImportJobs-ImportJobsCrossRegion-Tenants-PoolRunsFailed']),
      );
    });

    it("links each customer pool's dashboard to the Cognito console of the pool's region", () => {
      const bodies = Object.values(dashboardBodies(template));
      expect(bodies).toHaveLength(2);
      expect(bodies.find((b) => b.includes('### Cognito user import jobs: eu-west-1_CuStOmErS'))).toContain(
        'https://eu-west-1.console.aws.amazon.com/cognito/v2/idp/user-pools/eu-west-1_CuStOmErS/',
      );
      expect(bodies.find((b) => b.includes('### Cognito user import jobs: ap-southeast-2_CuStOmErS'))).toContain(
        'https://ap-southeast-2.console.aws.amazon.com/cognito/v2/idp/user-pools/ap-southeast-2_CuStOmErS/',
      );
    });
  });

  describe('cdk-monitoring-constructs.ts', () => {
    let template: Template, problems: string[], bodies: Record<string, string>;
    beforeAll(() => {
      ({ template, problems } = synthesized(runExample('cdk-monitoring-constructs'), 'ImportJobsMonitoringFacade'));
      bodies = dashboardBodies(template);
    });

    it('synthesizes with no warning', () => {
      expect(problems).toEqual([]);
    });

    it("puts the monitor's segment on the facade's three dashboards, beside the facade's own widgets", () => {
      expect(Object.keys(bodies).sort()).toEqual(['Identity', 'Identity-Alarms', 'Identity-Summary']);
      const header = '### Cognito user import jobs: eu-west-1_AbC123';
      // widgets() on the detailed dashboard, beside the function's and the table's.
      for (const title of [header, 'Jobs in flight', 'Jobs completed', 'Latest job transitions', 'Lambda Function', 'Dynamo Table']) {
        expect(bodies.Identity).toContain(title);
      }
      // summaryWidgets(): the header, the alarms and the jobs in flight, not the transitions.
      expect(bodies['Identity-Summary']).toContain(header);
      expect(bodies['Identity-Summary']).toContain('Jobs in flight');
      expect(bodies['Identity-Summary']).not.toContain('Latest job transitions');
      // alarmWidgets(): the status of each of the monitor's six alarms.
      const monitorAlarms = Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.startsWith('ImportJobs'));
      expect(monitorAlarms).toHaveLength(6);
      for (const id of monitorAlarms) expect(bodies['Identity-Alarms']).toContain(`{"Fn::GetAtt":["${id}","Arn"]}`);
    });

    it("pages the Pager topic from the monitor's alarms and from the facade's", () => {
      const pager = logicalId(template, 'AWS::SNS::Topic', 'Pager');
      const alarms = alarmsByName(template);
      expect(alarms['ImportJobs-eu-west-1_AbC123-JobFailed'].AlarmActions).toEqual([{ Ref: pager }]);
      expect(alarms['Identity-ImportJobMonitorFunction-Latency-P90-Warning'].AlarmActions).toEqual([{ Ref: pager }]);
    });
  });

  it('type-check with their own tsconfig, the library imported as a user would', async () => {
    const { code, output } = await typecheck;
    expect(output).toBe('');
    expect(code).toBe(0);
  });

  it('are each listed in examples/README.md with the command that runs it', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'examples', 'README.md'), 'utf8');
    for (const name of EXAMPLES) {
      expect(readme).toContain(`npx tsx --tsconfig examples/tsconfig.json examples/${name}.ts`);
    }
  });
});
