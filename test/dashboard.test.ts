import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DefaultDashboardFactory, MonitoringFacade } from 'cdk-monitoring-constructs';
import { ImportJobMonitor, ImportJobMonitorProps } from '../lib';
import {
  COMPLETED_STATUSES,
  DEFAULT_METRIC_NAMESPACE,
  DIMENSION_MONITOR,
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_HEARTBEAT,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_AWAITING_START,
  METRIC_JOBS_COMPLETED,
  METRIC_JOBS_STUCK,
  METRIC_POOL_RUNS_FAILED,
  METRIC_POOLS_MONITORED,
  METRIC_SKIPPED_USERS,
} from '../lib/contract';
import { TRANSITION_FIELDS } from '../lib/private/widgets';

const POOL = 'eu-west-1_AbC123';

function monitorIn(props: Partial<ImportJobMonitorProps> = {}) {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const monitor = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', POOL), ...props });
  return { stack, monitor };
}

/** A dashboard body as CloudWatch receives it, with each CloudFormation reference replaced by a placeholder. */
function body(dashboard: any): any {
  const raw = dashboard.Properties.DashboardBody;
  const text = typeof raw === 'string' ? raw : raw['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : 'REF')).join('');
  return JSON.parse(text);
}

/** Every metric a dashboard body graphs, as [namespace, name, dimensions]. */
function metricsOf(dashboardBody: any): { namespace: string; name: string; dimensions: Record<string, string> }[] {
  const out: { namespace: string; name: string; dimensions: Record<string, string> }[] = [];
  for (const widget of dashboardBody.widgets) {
    for (const entry of widget.properties.metrics ?? []) {
      if (typeof entry[0] !== 'string') continue; // a math expression: its inputs are listed as metrics too
      const [namespace, name, ...rest] = entry;
      const pairs = rest.filter((x: unknown) => typeof x === 'string');
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < pairs.length; i += 2) dimensions[pairs[i]] = pairs[i + 1];
      out.push({ namespace, name, dimensions });
    }
  }
  return out;
}


/** Adds the monitor to a cdk-monitoring-constructs facade making its three dashboards. */
function addToFacade(stack: Stack, monitor: ImportJobMonitor): void {
  const dashboardFactory = new DefaultDashboardFactory(stack, 'Dashboards', {
    dashboardNamePrefix: 'Imports',
    createDashboard: true,
    createSummaryDashboard: true,
    createAlarmDashboard: true,
  });
  new MonitoringFacade(stack, 'Facade', { dashboardFactory }).addSegment(monitor);
}

describe('dashboards', () => {
  it('creates no dashboard unless asked, since one costs money', () => {
    const { stack, monitor } = monitorIn();
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(monitor.dashboard).toBeUndefined();
  });

  it('renders a valid dashboard in which every metric is one the handler publishes', () => {
    const { stack, monitor } = monitorIn({ createDashboard: true });
    expect(monitor.dashboard).toBeDefined();
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const rendered = body(dashboard);
    const titles = rendered.widgets.map((w: any) => w.properties.title ?? w.properties.markdown?.split('\n')[0]);
    expect(titles).toEqual([
      `### Cognito user import jobs: ${POOL}`,
      'Alarms',
      'Jobs in flight',
      'Jobs completed',
      'Users',
      'Latest job transitions',
    ]);
    const metrics = metricsOf(rendered);
    expect(metrics.length).toBe(4 + 4 + 3);
    const published = new Set([METRIC_JOBS, METRIC_JOBS_COMPLETED, METRIC_IMPORTED_USERS, METRIC_SKIPPED_USERS, METRIC_FAILED_USERS, METRIC_HEARTBEAT]);
    for (const m of metrics) {
      expect(m.namespace).toBe(DEFAULT_METRIC_NAMESPACE);
      expect([...published]).toContain(m.name);
      expect(m.dimensions[DIMENSION_USER_POOL_ID]).toBe(POOL);
      const status = m.dimensions[DIMENSION_STATUS];
      if (m.name === METRIC_JOBS) expect(JOB_STATUSES).toContain(status);
      else if (m.name === METRIC_JOBS_COMPLETED) expect(COMPLETED_STATUSES).toContain(status);
      else expect(Object.keys(m.dimensions)).toEqual([DIMENSION_USER_POOL_ID]);
    }
  });

  it.each([
    ['a pool', () => monitorIn({ createDashboard: true }).stack],
    ['a fleet', () => {
      const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
      new ImportJobMonitor(stack, 'Monitor', { userPools: [cognito.UserPool.fromUserPoolId(stack, 'P', 'us-east-1_Def456')], createDashboard: true });
      return stack;
    }],
  ])('lays the widgets of %s side by side, as dashboard.addWidgets(...monitor.widgets()) does, leaving no row two thirds empty', (_, stackOf) => {
    const [dashboard] = Object.values(Template.fromStack(stackOf()).findResources('AWS::CloudWatch::Dashboard'));
    const widgets: { x: number; y: number; width: number }[] = body(dashboard).widgets;
    const rows = new Map<number, number>();
    for (const w of widgets) rows.set(w.y, (rows.get(w.y) ?? 0) + w.width);
    // The three 8-wide graphs share a row: 24 wide, the dashboard's full width.
    const graphs = widgets.filter((w) => w.width === 8);
    expect(graphs.length).toBeGreaterThanOrEqual(3);
    expect(new Set(graphs.slice(0, 3).map((w) => w.y)).size).toBe(1);
    expect(graphs.slice(0, 3).map((w) => w.x)).toEqual([0, 8, 16]);
    for (const [, width] of rows) expect(width).toBeLessThanOrEqual(24);
  });

  it('fills the gaps a quiet period leaves with zeros: a pool publishes a gauge only while it is not zero, and a count only when something happened', () => {
    const { stack, monitor } = monitorIn();
    const expressions = stack.resolve(monitor.widgets().flatMap((w) => w.toJson())).flatMap((w: any) => w.properties.metrics ?? [])
      .filter((entry: any[]) => typeof entry[0] === 'object').map((entry: any[]) => entry[0].expression);
    expect(expressions.filter((e: string) => e.endsWith(', REPEAT)'))).toHaveLength(0);
    expect(expressions.filter((e: string) => e.endsWith(', 0)'))).toHaveLength(11);
  });

  it('links the header to the pool in its own region and to the monitor log group', () => {
    const { stack, monitor } = monitorIn();
    const [header] = monitor.widgets();
    const parts: any[] = stack.resolve((header.toJson()[0] as any).properties.markdown)['Fn::Join'][1];
    const text = parts.filter((p) => typeof p === 'string').join('');
    expect(text).toContain(`https://eu-west-1.console.aws.amazon.com/cognito/v2/idp/user-pools/${POOL}/users?region=eu-west-1`);
    expect(text).toContain(`/aws/cognito/userpools/${POOL}/<pool name>`);
    const link = parts.findIndex((p) => typeof p === 'string' && p.endsWith('#logsV2:log-groups/log-group/'));
    expect(parts[link + 1]).toEqual({ Ref: expect.stringMatching(/^MonitorLogGroup/) });
  });

  it('queries the latest transitions from the monitor log group, by the fields the handler logs', () => {
    const { stack, monitor } = monitorIn();
    const table = monitor.widgets().at(-1)!.toJson()[0] as any;
    const [source, group, rest] = stack.resolve(table.properties.query)['Fn::Join'][1];
    expect([source, group]).toEqual(["SOURCE '", { Ref: expect.stringMatching(/^MonitorLogGroup/) }]);
    expect(rest).toContain(`fields @timestamp, ${TRANSITION_FIELDS.join(', ')}`);
    expect(rest).toContain('filter message = "Import job completed" or message = "Import job status changed"');
  });

  it('shows no alarm widget when every alarm is switched off', () => {
    const { monitor } = monitorIn({
      failedJobsAlarmOptions: { enabled: false },
      expiredJobsAlarmOptions: { enabled: false },
      monitorHealthAlarmOptions: { enabled: false },
      expiringJobsAlarmOptions: { enabled: false },
      stuckJobsAlarmOptions: { enabled: false },
      failedUsersAlarmOptions: { enabled: false },
    });
    expect(monitor.alarmWidgets()).toEqual([]);
    expect(monitor.widgets()).toHaveLength(5);
  });

  it('is a segment that cdk-monitoring-constructs adds to its dashboards', () => {
    const { stack, monitor } = monitorIn();
    addToFacade(stack, monitor);
    const dashboards = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')).map((d) =>
      JSON.stringify(body(d)),
    );
    expect(dashboards).toHaveLength(3);
    // The main dashboard has every widget, the summary the header, alarms and jobs in flight, the alarm one the alarms.
    expect(dashboards.filter((d) => d.includes('Latest job transitions') && d.includes('Jobs completed'))).toHaveLength(1);
    expect(dashboards.filter((d) => d.includes('Jobs in flight') && !d.includes('Latest job transitions'))).toHaveLength(1);
    expect(dashboards.filter((d) => d.includes('"alarm"') || d.includes('Alarms'))).toHaveLength(3);
  });
});

describe("a fleet's dashboards", () => {
  /** What a fleet publishes: each metric's exact set of dimensions (Metrics Insights' SCHEMA matches only those). */
  const FLEET_SCHEMAS: Record<string, string[]> = {
    [METRIC_JOBS]: [DIMENSION_STATUS, DIMENSION_USER_POOL_ID],
    [METRIC_JOBS_COMPLETED]: [DIMENSION_STATUS, DIMENSION_USER_POOL_ID],
    [METRIC_IMPORTED_USERS]: [DIMENSION_USER_POOL_ID],
    [METRIC_SKIPPED_USERS]: [DIMENSION_USER_POOL_ID],
    [METRIC_FAILED_USERS]: [DIMENSION_USER_POOL_ID],
    [METRIC_JOBS_AWAITING_START]: [DIMENSION_USER_POOL_ID],
    [METRIC_JOBS_STUCK]: [DIMENSION_USER_POOL_ID],
    [METRIC_POOL_RUNS_FAILED]: [DIMENSION_USER_POOL_ID],
  };
  const QUERY = /^SELECT (SUM|MAX)\((\w+)\) FROM SCHEMA\("([^"]+)", ([\w, ]+)\)(?: WHERE (.+?))?(?: GROUP BY ([\w, ]+) ORDER BY (SUM|MAX)\(\) DESC)?$/;

  function fleetIn(props: Partial<ImportJobMonitorProps>) {
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    const monitor = new ImportJobMonitor(stack, 'Monitor', {
      userPools: ['eu-west-1_AbC123', 'us-east-1_Def456', 'us-east-1_Ghi789'].map((id) => cognito.UserPool.fromUserPoolId(stack, id, id)),
      ...props,
    });
    return { stack, monitor };
  }

  /** Every Metrics Insights query of a dashboard body. */
  function queriesOf(dashboardBody: any): string[] {
    return dashboardBody.widgets.flatMap((w: any) => (w.properties.metrics ?? []).filter((e: any[]) => typeof e[0] === 'object').map((e: any[]) => e[0].expression));
  }

  it('names each series of a graph by pool by its pool, not by the query', () => {
    const { stack } = fleetIn({ createDashboard: true });
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const grouped = body(dashboard)
      .widgets.flatMap((w: any) => w.properties.metrics ?? [])
      .map((e: any[]) => e[0])
      .filter((o: any) => typeof o === 'object' && /GROUP BY UserPoolId/.test(o.expression));
    expect(grouped.length).toBeGreaterThan(0);
    expect(grouped.filter((o: any) => o.label !== undefined)).toEqual([]);
  });

  it('renders a valid dashboard in which every query and metric names what the handler publishes for a fleet', () => {
    const { stack, monitor } = fleetIn({ createDashboard: true });
    const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
    const rendered = body(dashboard);
    const titles = rendered.widgets.map((w: any) => w.properties.title ?? w.properties.markdown?.split('\n')[0]);
    expect(titles).toEqual([
      '### Cognito user import jobs: fleet Test-Monitor',
      'Alarms',
      'Jobs in flight, by pool and status',
      'Jobs completed, by pool and status',
      'Users, all pools',
      'Failed users, by pool',
      'Pools monitored, and failed runs by pool',
      'Latest job transitions',
    ]);
    const queries = queriesOf(rendered);
    expect(queries).toHaveLength(7);
    for (const query of queries) {
      const match = QUERY.exec(query);
      expect(match).not.toBeNull();
      const [, fn, name, namespace, dims, where, groups, orderFn] = match!;
      expect(namespace).toBe(DEFAULT_METRIC_NAMESPACE);
      expect(FLEET_SCHEMAS[name]).toBeDefined();
      expect(dims.split(', ').sort()).toEqual([...FLEET_SCHEMAS[name]].sort());
      for (const condition of where?.split(' AND ') ?? []) {
        const [, key, status] = /^(\w+) !?= '(\w+)'$/.exec(condition)!;
        expect(key).toBe(DIMENSION_STATUS);
        expect(name === METRIC_JOBS ? JOB_STATUSES : COMPLETED_STATUSES).toContain(status);
      }
      if (groups !== undefined) {
        const grouped = groups.split(', ');
        expect(grouped.length).toBeGreaterThan(0);
        expect(FLEET_SCHEMAS[name]).toEqual(expect.arrayContaining(grouped));
        expect(orderFn).toBe(fn);
      }
    }
    // Jobs in flight: the four statuses a job is in before it ends, left as they are.
    expect(queries[0]).toBe(
      "SELECT MAX(Jobs) FROM SCHEMA(\"Cognito/UserImportJobs\", Status, UserPoolId) WHERE Status != 'Expired' AND Status != 'Stopped' " +
        "AND Status != 'Failed' AND Status != 'Succeeded' GROUP BY UserPoolId, Status ORDER BY MAX() DESC",
    );
    // The one plain metric: the pools each tick knew of, under the fleet's own dimension.
    expect(metricsOf(rendered)).toEqual([{ namespace: DEFAULT_METRIC_NAMESPACE, name: METRIC_POOLS_MONITORED, dimensions: { [DIMENSION_MONITOR]: 'Test-Monitor' } }]);
    expect(monitor.summaryWidgets()).toHaveLength(3);
  });

  it('says in the header which pools it watches and links to them in each region', () => {
    const text = (monitor: ImportJobMonitor, stack: Stack) => {
      const resolved = stack.resolve((monitor.widgets()[0].toJson()[0] as any).properties.markdown);
      return typeof resolved === 'string' ? resolved : resolved['Fn::Join'][1].filter((p: unknown) => typeof p === 'string').join('');
    };
    const listed = fleetIn({});
    const listedText = text(listed.monitor, listed.stack);
    expect(listedText).toContain('Pools: 3 user pools listed (`eu-west-1_AbC123`, `us-east-1_Def456`, `us-east-1_Ghi789`)');
    expect(listedText).toContain('[User pools in eu-west-1](https://eu-west-1.console.aws.amazon.com/cognito/v2/idp/user-pools?region=eu-west-1)');
    expect(listedText).toContain('[User pools in us-east-1](https://us-east-1.console.aws.amazon.com/cognito/v2/idp/user-pools?region=us-east-1)');
    const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
    const discovered = new ImportJobMonitor(stack, 'Monitor', { discoverUserPools: { include: ['tenant-*'], exclude: ['*-sandbox'] } });
    expect(text(discovered, stack)).toContain(
      'Pools: every user pool of the account in this region, discovered on each run, matching `tenant-*`, except `*-sandbox`.',
    );
  });

  it("shows the pool of each transition in a fleet's table", () => {
    const { stack, monitor } = fleetIn({});
    const table = monitor.widgets().at(-1)!.toJson()[0] as any;
    expect(JSON.stringify(stack.resolve(table.properties.query))).toContain(`fields @timestamp, userPoolId, ${TRANSITION_FIELDS.join(', ')}`);
  });

  it('is a segment that cdk-monitoring-constructs adds to its dashboards', () => {
    const { stack, monitor } = fleetIn({});
    addToFacade(stack, monitor);
    const dashboards = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')).map((d) => JSON.stringify(body(d)));
    expect(dashboards).toHaveLength(3);
    expect(dashboards.filter((d) => d.includes('Jobs in flight, by pool and status') && d.includes('SELECT MAX(Jobs)'))).toHaveLength(2);
  });
});
