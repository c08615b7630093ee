import {
  Annotations,
  Duration,
  RemovalPolicy,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  triggers,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_METRIC_NAMESPACE,
  ENV_ACTIVE_SCHEDULE_SECONDS,
  ENV_AWAITING_START_SECONDS,
  ENV_EVENT_BUS_NAME,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_STUCK_SECONDS,
  EVENT_DETAIL_TYPE,
  EVENT_DETAIL_TYPE_POOL_RUN_FAILED,
  ImportJobStatus,
} from './contract';
import { FleetMetricOptions } from './fleet-options';
import { createAlarms, planAlarms, warnWhenNobodyIsPaged, warningZerosEnvironment } from './private/alarm-factory';
import { longestNames } from './private/descriptions';
import { FleetPools } from './private/fleet-pools';
import { MetricFactory } from './private/metric-factory';
import { handlerSettings } from './private/handler-code';
import { acknowledgeWildcards } from './private/nag';
import { MonitoredPools, SinglePool } from './private/pools';
import { claimPool } from './private/registry';
import { stateTable } from './private/state-table';
import {
  atPath,
  validateActiveSchedule,
  validateAlarmNamePrefix,
  validateEventBus,
  validateLogRetention,
  validateNamespace,
  validateSchedule,
  validateSources,
  validateStatuses,
  validateWarning,
} from './private/validate';
import { WidgetSource, alarmWidgets, dashboardWidgets, summaryWidgets, widgetSource } from './private/widgets';
import { ImportJobMonitorProps, OnJobStateChangeOptions } from './props';

/**
 * Monitors the user import jobs of an Amazon Cognito user pool: a scheduled function lists the pool's
 * jobs, publishes CloudWatch metrics on them, and alarms fire when a job ends `Failed` or `Expired`. Each status
 * change of a job is also sent as an EventBridge event, which `onJobStateChange()` routes to a target.
 */
export class ImportJobMonitor extends Construct {
  /** The function that lists the jobs and publishes the metrics. */
  public readonly handler: lambda.IFunction;
  /** The table that keeps the last seen state of each job between runs. */
  public readonly stateTable: dynamodb.ITable;
  /** The namespace of the metrics. */
  public readonly metricNamespace: string;
  /** How often the jobs are listed while none is unfinished; the default period of the metric accessors. */
  public readonly schedule: Duration;
  /** How often the jobs are listed while any is unfinished; the rate the function is invoked at. */
  public readonly activeSchedule: Duration;
  /** In ALARM while a job that ended `Failed` is within its evaluation window; undefined when switched off. */
  public readonly failedJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM while a job that ended `Expired` is within its evaluation window; undefined when switched off. */
  public readonly expiredJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM when no tick worked (heartbeat) for 5 minutes, or 3 ticks if longer; undefined when switched off. */
  public readonly monitorHealthAlarm?: cloudwatch.Alarm;
  /** Every alarm the monitor created (those of the seven `...Alarm` fields switched on), each with the actions given. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** In ALARM while a job waits in `Created` past `awaitingStartWarning`; undefined when switched off. */
  public readonly expiringJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM while a job runs past `stuckWarning`; undefined when switched off. */
  public readonly stuckJobsAlarm?: cloudwatch.Alarm;
  /** In ALARM while a job that ended `Succeeded` or `Stopped` with failed users is within its evaluation window; undefined when switched off. */
  public readonly failedUsersAlarm?: cloudwatch.Alarm;
  /** The deployment's own run of the function; undefined when `runOnDeploy` is false. */
  public readonly deployRun?: triggers.Trigger;
  /** The monitor's own dashboard; undefined unless `createDashboard` is true. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The handler's log group, where each run logs its transitions and failures. */
  public readonly logGroup: logs.ILogGroup;
  /** The bus the per-job events are sent to, or undefined with `jobEvents: false`. */
  public readonly eventBus?: events.IEventBus;
  /** A fleet's name, the `Monitor` dimension of its own metrics; undefined for a single pool (`userPool`). */
  public readonly monitorName?: string;
  /** A fleet's alarm on pools whose runs keep failing, one contributor per pool; undefined for a single pool or when switched off. */
  public readonly poolRunsFailedAlarm?: cloudwatch.Alarm;
  private readonly pools: MonitoredPools;
  private readonly metrics: MetricFactory;

  constructor(scope: Construct, id: string, props: ImportJobMonitorProps) {
    super(scope, id);
    // A prop's error names the monitor it is about, as aws-cdk-lib's own errors name their construct.
    try {
      validateSources(props);
      this.schedule = props.schedule ?? Duration.minutes(5);
      this.activeSchedule = props.activeSchedule ?? Duration.minutes(1);
      this.metricNamespace = props.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
      validateSchedule(this.schedule);
      validateActiveSchedule(this.activeSchedule, this.schedule);
      validateNamespace(this.metricNamespace);
      // The one place that tells a single pool from a fleet: everything that differs is behind MonitoredPools.
      this.pools = props.userPool ? new SinglePool(this, props.userPool, props) : new FleetPools(this, props);
      this.monitorName = this.pools.monitorName;
      this.metrics = new MetricFactory(this, this.metricNamespace, this.schedule, this.pools);
      validateLogRetention(props.logRetention);
      const alarmNamePrefix = props.alarmNamePrefix ?? this.pools.defaultAlarmNamePrefix;
      validateAlarmNamePrefix(alarmNamePrefix);
      claimPool(this, props.userPool, this.pools.userPoolId, this.metricNamespace, alarmNamePrefix);
      const awaitingStart = props.awaitingStartWarning ?? Duration.hours(12);
      const stuck = props.stuckWarning ?? Duration.hours(12);
      validateWarning('awaitingStartWarning', awaitingStart, Duration.hours(23));
      validateWarning('stuckWarning', stuck, Duration.days(7));
      const plannedAlarms = planAlarms(props, this.pools, { schedule: this.schedule, activeSchedule: this.activeSchedule, fleet: this.pools.fleet });
      validateEventBus(props);
      if (props.jobEvents ?? true) {
        this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultEventBus', 'default');
      }

      const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
      const table = stateTable(this, 'State', removalPolicy);
      this.stateTable = table;

      this.logGroup = new logs.LogGroup(this, 'LogGroup', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy,
      });
      // A role of our own: the managed AWSLambdaBasicExecutionRole would let it write to every log group.
      const role = new iam.Role(this, 'HandlerRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: this.pools.roleDescription,
      });
      this.logGroup.grantWrite(role);

      const handler = new lambda.Function(this, 'Handler', {
        ...handlerSettings(this.activeSchedule),
        description: this.pools.handlerDescription,
        code: this.pools.code(),
        role,
        logGroup: this.logGroup,
        memorySize: this.pools.memorySize,
        environment: {
          ...this.pools.environment,
          ...warningZerosEnvironment(plannedAlarms, this.pools, this.schedule),
          [ENV_STATE_TABLE_NAME]: table.tableName,
          [ENV_METRIC_NAMESPACE]: this.metricNamespace,
          [ENV_SCHEDULE_SECONDS]: String(this.schedule.toSeconds()),
          [ENV_ACTIVE_SCHEDULE_SECONDS]: String(this.activeSchedule.toSeconds()),
          [ENV_AWAITING_START_SECONDS]: String(awaitingStart.toSeconds()),
          [ENV_STUCK_SECONDS]: String(stuck.toSeconds()),
          ...(this.eventBus ? { [ENV_EVENT_BUS_NAME]: this.eventBus.eventBusArn } : {}),
        },
      });
      this.handler = handler;
      const grants = this.pools.statements(this.eventBus !== undefined);
      for (const { statement } of grants) handler.addToRolePolicy(statement);
      acknowledgeWildcards(role, grants.flatMap(({ statement, wildcard }) =>
        wildcard === undefined ? [] : statement.resources.map((resource) => ({ resource, reason: wildcard }))));
      this.eventBus?.grantPutEventsTo(handler);
      // DeleteItem: a fleet forgets the due time of a pool that left it; a run deletes job items of 0.1.0's layout once buckets hold them.
      table.grant(handler, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');

      new events.Rule(this, 'Schedule', {
        description: 'Runs the user import job monitor',
        schedule: events.Schedule.rate(this.activeSchedule),
        targets: [new targets.LambdaFunction(handler)],
      });

      if (props.runOnDeploy ?? true) {
        // On creation only: that is when the health alarm is new. Later deployments, and their rollbacks, then do
        // not depend on Cognito answering.
        this.deployRun = new triggers.Trigger(this, 'DeployRun', {
          handler,
          executeAfter: [table, this.logGroup],
          executeOnHandlerChange: false,
        });
        // The trigger invokes the function's current version, the schedule the function itself: each is granted
        // what it invokes, so the warning about permissions on versions does not apply.
        Annotations.of(handler).acknowledgeWarning('@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias', 'the schedule invokes the unqualified function');
      }

      const alarms = createAlarms(this, plannedAlarms, {
        props,
        pools: this.pools,
        metrics: this.metrics,
        alarmNamePrefix,
        context: { logGroupName: this.logGroup.logGroupName, longest: longestNames(this.logGroup, this.pools.userPoolId), awaitingStart, stuck },
      });
      this.alarms.push(...alarms.values());
      this.failedJobsAlarm = alarms.get('failedJobsAlarm');
      this.expiredJobsAlarm = alarms.get('expiredJobsAlarm');
      this.expiringJobsAlarm = alarms.get('expiringJobsAlarm');
      this.stuckJobsAlarm = alarms.get('stuckJobsAlarm');
      this.failedUsersAlarm = alarms.get('failedUsersAlarm');
      this.poolRunsFailedAlarm = alarms.get('poolRunsFailedAlarm');
      this.monitorHealthAlarm = alarms.get('monitorHealthAlarm');
      // The health alarm is created after the deployment's first run, which publishes the first heartbeat.
      if (this.deployRun) this.monitorHealthAlarm?.node.addDependency(this.deployRun);
      warnWhenNobodyIsPaged(this, alarms, props);

      if (props.createDashboard) {
        // One row of widgets, laid out side by side and wrapped at the dashboard's width, as addWidgets does.
        this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { widgets: [this.widgets()] });
      }
    } catch (error) {
      throw atPath(this, error);
    }
  }

  /**
   * A rule on the monitor's bus (`eventBus`) that matches this pool's job events: each status change the monitor
   * counts, as `onEvent` of aws-cdk-lib's resources does for theirs. For a fleet, the job events of its pools: those
   * sent from the stack's account, and, for a list of at most 20 pools, from those pools (`detail.userPoolId`).
   * `options.eventPattern` is merged with the rule's own pattern (a list in both is matched as either);
   * `options.target`, if given, is added.
   * @param id the rule's construct ID, within the monitor
   * @param options the rule's name, description, target and extra pattern, and the statuses to match
   */
  public onJobStateChange(id: string, options: OnJobStateChangeOptions = {}): events.Rule {
    if (this.eventBus === undefined) {
      throw new Error('onJobStateChange needs the job events, but jobEvents is false: leave jobEvents on to route them');
    }
    validateStatuses(options.statuses);
    const rule = new events.Rule(this, id, { ...options, eventBus: this.eventBus });
    rule.addEventPattern(this.pools.eventPattern(EVENT_DETAIL_TYPE, options.statuses));
    rule.addTarget(options.target);
    return rule;
  }

  /**
   * A fleet's rule on the monitor's bus (`eventBus`) that matches the events it sends, best effort, when a pool's run
   * failed (detail-type `Cognito User Import Monitor Pool Run Failed`, `detail.userPoolId` naming the pool), from
   * the stack's account and, for a list of at most 20 pools, from those pools.
   * @param id the rule's construct ID, within the monitor
   * @param options the rule's name, description, target and extra pattern
   */
  public onPoolRunFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    this.pools.requireFleet('onPoolRunFailed is for fleets (userPools or discoverUserPools): a single pool\'s failed runs page through monitorHealthAlarm');
    if (this.eventBus === undefined) {
      throw new Error('onPoolRunFailed needs the job events, but jobEvents is false: leave jobEvents on to route them');
    }
    const rule = new events.Rule(this, id, { ...options, eventBus: this.eventBus });
    rule.addEventPattern(this.pools.eventPattern(EVENT_DETAIL_TYPE_POOL_RUN_FAILED));
    rule.addTarget(options.target);
    return rule;
  }

  /**
   * The number of jobs now in a status, as counted by the last run. A single pool's metric: for a fleet, use
   * `metricFleetJobs`.
   * @param status any status, e.g. `ImportJobStatus.IN_PROGRESS`
   * @default maximum over the schedule period
   */
  public metricJobs(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  // TypeScript also takes the status' plain name ('InProgress'), checked at synth. jsii reads the first
  // signature only, so Python, Java, .NET and Go see the enum.
  public metricJobs(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobs(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('Jobs', props, status);
  }

  /**
   * The number of jobs that entered a completed status; each job is counted once, when it gets there. A single
   * pool's metric: for a fleet, use `metricFleetJobsCompleted`.
   * @param status a status a job ends in: `SUCCEEDED`, `FAILED`, `STOPPED` or `EXPIRED`
   * @default sum over the schedule period
   */
  public metricJobsCompleted(status: ImportJobStatus, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobsCompleted(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  public metricJobsCompleted(status: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('JobsCompleted', props, status);
  }

  /**
   * Users imported, counted as the jobs' counters grow: the sum over a period is the users imported in it. A single
   * pool's metric: for a fleet, use `metricFleetImportedUsers`.
   * @default sum over the schedule period
   */
  public metricImportedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('ImportedUsers', props);
  }

  /**
   * Users skipped (already in the pool), counted as the jobs' counters grow. A single pool's metric: for a fleet,
   * use `metricFleetSkippedUsers`.
   * @default sum over the schedule period
   */
  public metricSkippedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('SkippedUsers', props);
  }

  /**
   * Users that failed to import, counted as the jobs' counters grow. A single pool's metric: for a fleet, use
   * `metricFleetFailedUsers`.
   * @default sum over the schedule period
   */
  public metricFailedUsers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('FailedUsers', props);
  }

  /**
   * Users that failed to import in jobs that ended `Succeeded` or `Stopped`, counted once at each such job's end: what
   * `failedUsersAlarm` watches. A single pool's metric: for a fleet, use `metricFleetFailedUsersOfEndedJobs`.
   * @default sum over the schedule period
   */
  public metricFailedUsersOfEndedJobs(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('FailedUsersOfEndedJobs', props);
  }

  /**
   * Every widget of the monitor, for any `cloudwatch.Dashboard`: a header with links to the pool and the logs, the
   * alarms' status, jobs in flight, jobs completed and users per period, and a table of the latest transitions. For a
   * fleet, the graphs draw a line per pool with news (Metrics Insights queries) and one of the pools monitored.
   * With `summaryWidgets()` and `alarmWidgets()` the monitor is also a segment that cdk-monitoring-constructs'
   * `MonitoringFacade.addSegment()` takes.
   */
  public widgets(): cloudwatch.IWidget[] {
    return dashboardWidgets(this.widgetSource());
  }

  /** The widgets for a summary dashboard: the header, the alarms' status and the jobs in flight. */
  public summaryWidgets(): cloudwatch.IWidget[] {
    return summaryWidgets(this.widgetSource());
  }

  /** The widgets for an alarm dashboard: the alarms' status, empty when every alarm is switched off. */
  public alarmWidgets(): cloudwatch.IWidget[] {
    return alarmWidgets(this.widgetSource());
  }

  private widgetSource(): WidgetSource {
    return widgetSource(this.pools, this.metrics, this, this.alarms, this.logGroup.logGroupName);
  }

  /**
   * Jobs created longer ago than `awaitingStartWarning` and not started yet. A single pool's metric: for a fleet,
   * use `metricFleetJobsAwaitingStart`.
   * @default maximum over the schedule period
   */
  public metricJobsAwaitingStart(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('JobsAwaitingStart', props);
  }

  /**
   * Jobs pending, in progress or stopping for longer than `stuckWarning`. A single pool's metric: for a fleet, use
   * `metricFleetJobsStuck`.
   * @default maximum over the schedule period
   */
  public metricJobsStuck(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('JobsStuck', props);
  }

  /**
   * Listed jobs left out because what was listed for them makes no sense (an ID that is not a job ID, a count that
   * is not a whole number from 0, a date out of range), each logged with what was wrong. Alarm on it to hear of
   * them. A single pool's metric: for a fleet, use `metricFleetInvalidJobs`.
   * @default maximum over the schedule period
   */
  public metricInvalidJobs(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('InvalidJobs', props);
  }

  /**
   * What a run left owed (an event the bus refused, an entry no run could take over), published only when not zero:
   * a debt a later run pays, or, if it stays, one to hear of. A single pool's metric: for a fleet, use
   * `metricFleetOwedEntries`.
   * @default maximum over the schedule period
   */
  public metricOwedEntries(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.poolMetric('OwedEntries', props);
  }

  /**
   * Ticks that worked: each scheduled tick sends 1 when its run listed every job, stored every change and published
   * its metrics, or the pool was not due, and 0 when it failed. For a fleet (dimension `Monitor`), 1 for each tick
   * that listed its pools and read when each is due, 0 for one that failed before. Its absence, or zeros, are what
   * the health alarm watches.
   * @default sum over the schedule period
   */
  public metricHeartbeat(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.ownMetric('Heartbeat', props);
  }

  /**
   * A fleet's pools, as many as each tick knew of (listed, or discovered and matched), dimension `Monitor`.
   * @default maximum over the schedule period
   */
  public metricPoolsMonitored(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    this.pools.requireFleet('metricPoolsMonitored is for fleets (userPools or discoverUserPools): a single pool publishes no PoolsMonitored');
    return this.metrics.ownMetric('PoolsMonitored', props);
  }

  /**
   * Jobs now in a status, per pool (the largest count any pool had in the period without `byPool`): a Metrics
   * Insights query on `Jobs`. A fleet publishes a pool's count only while it is not zero. For a single pool's
   * monitor, the query covers its pool.
   * @param status any status, e.g. `ImportJobStatus.IN_PROGRESS`
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetJobs(status: ImportJobStatus, options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('Jobs', options, status);
  }

  /**
   * Jobs that entered a completed status, per pool (or over the fleet without `byPool`): a Metrics Insights query on
   * `JobsCompleted`.
   * @param status a status a job ends in: `SUCCEEDED`, `FAILED`, `STOPPED` or `EXPIRED`
   * @default sum, per pool, over the schedule period
   */
  public metricFleetJobsCompleted(status: ImportJobStatus, options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('JobsCompleted', options, status);
  }

  /**
   * Users imported, per pool (or over the fleet without `byPool`): a Metrics Insights query on `ImportedUsers`.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetImportedUsers(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('ImportedUsers', options);
  }

  /**
   * Users skipped, per pool (or over the fleet without `byPool`): a Metrics Insights query on `SkippedUsers`.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetSkippedUsers(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('SkippedUsers', options);
  }

  /**
   * Users that failed to import, per pool (or over the fleet without `byPool`): a Metrics Insights query on
   * `FailedUsers`.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetFailedUsers(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('FailedUsers', options);
  }

  /**
   * Users that failed to import in jobs that ended `Succeeded` or `Stopped`, per pool (or over the fleet without
   * `byPool`): a Metrics Insights query on `FailedUsersOfEndedJobs`, what `failedUsersAlarm` watches.
   * @default sum, per pool, over the schedule period
   */
  public metricFleetFailedUsersOfEndedJobs(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('FailedUsersOfEndedJobs', options);
  }

  /**
   * Jobs waiting in `Created` past `awaitingStartWarning`, per pool (the largest count of any pool without
   * `byPool`): a Metrics Insights query on `JobsAwaitingStart`.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetJobsAwaitingStart(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('JobsAwaitingStart', options);
  }

  /**
   * Jobs running past `stuckWarning`, per pool (the largest count of any pool without `byPool`): a Metrics Insights
   * query on `JobsStuck`.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetJobsStuck(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('JobsStuck', options);
  }

  /**
   * Listed jobs left out because what was listed for them makes no sense, per pool (the largest count of any pool
   * without `byPool`): a Metrics Insights query on `InvalidJobs`.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetInvalidJobs(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('InvalidJobs', options);
  }

  /**
   * What runs left owed, per pool (the largest of any pool without `byPool`): a Metrics Insights query on
   * `OwedEntries`, published only when not zero.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetOwedEntries(options?: FleetMetricOptions): cloudwatch.MathExpression {
    return this.metrics.fleetMetric('OwedEntries', options);
  }

  /**
   * Failed runs in a row, per pool (or the most over the fleet without `byPool`): a Metrics Insights query on
   * `PoolRunsFailed`, which a fleet publishes with each failed run of a pool: how many of its runs in a row have
   * failed (1, 2, 3...). Only for fleets.
   * @default maximum, per pool, over the schedule period
   */
  public metricFleetPoolRunsFailed(options?: FleetMetricOptions): cloudwatch.MathExpression {
    this.pools.requireFleet('metricFleetPoolRunsFailed is for fleets (userPools or discoverUserPools): a single pool\'s failed runs show as missing heartbeats');
    return this.metrics.fleetMetric('PoolRunsFailed', options);
  }
}
