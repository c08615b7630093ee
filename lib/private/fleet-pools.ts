/**
 * A fleet: the pools of a list (`userPools`) or every pool of the account and region, discovered on each run
 * (`discoverUserPools`). Its alarms are Metrics Insights queries with a contributor per pool.
 */
import * as crypto from 'crypto';
import { Stack, Token, aws_cloudwatch as cloudwatch, aws_cognito as cognito, aws_events as events, aws_iam as iam, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DIMENSION_MONITOR,
  ENV_COGNITO_REQUESTS_PER_SECOND,
  ENV_DISCOVER_USER_POOLS,
  ENV_MONITOR_NAME,
  ENV_USER_POOL_IDS,
  ENV_USER_POOL_IDS_FILE,
  EVENT_SOURCE,
  GONE_POOL_REPORTED_RUNS,
  userPoolRegion,
} from '../contract';
import { UserPoolDiscovery } from '../fleet-options';
import { ImportJobMonitorProps } from '../props';
import { DescriptionContext, Descriptions, fleetDescriptions } from './descriptions';
import { USER_POOL_IDS_FILE_NAME, handlerCode } from './handler-code';
import { MonitoredPools, PolicyGrant, poolActions, userPoolArn } from './pools';
import {
  ResolvedAlarmOptions,
  PropsError,
  validateAccount,
  validateDiscovery,
  validateInsightsRange,
  validateMonitorName,
  validateRequestRate,
  validateUserPool,
} from './validate';

/** Characters of `USER_POOL_IDS` kept in the environment; the other variables take at most about 1 KB. */
const MAX_POOL_IDS_IN_ENVIRONMENT = 2500;

/**
 * Up to this many pools, the role names each pool's ARN; beyond, it names `userpool/*` in each of the list's
 * regions. An ARN is about 75 characters, and a role's inline policies may hold 10,240 in all: 20 ARNs stay well
 * inside that beside the function's other statements.
 */
const MAX_POOL_ARNS = 20;

export class FleetPools implements MonitoredPools {
  public readonly fleet = true;
  public readonly source: 'userPools' | 'discoverUserPools';
  public readonly monitorName: string;
  public readonly ownDimensions: Record<string, string>;
  public readonly regions: string[];
  public readonly summary: string;
  public readonly defaultAlarmNamePrefix: string;
  public readonly roleDescription = 'Lists the user import jobs of a fleet of user pools and keeps their state';
  public readonly handlerDescription = 'Publishes CloudWatch metrics on the user import jobs of a fleet of Cognito user pools';
  // A fleet's tick holds a listing at a time per worker and its pools' clients: the first run of 1,000 pools peaks at
  // about 150 MB (npm run bench -- --naive, the process's own peak). 512 MB leaves that room, and buys the CPU that
  // Lambda allots in proportion to memory, which a tick of many pools spends within its timeout.
  public readonly memorySize = 512;
  public readonly environment: Record<string, string>;
  /** The listed pools' IDs (tokens for pools created in the app); undefined for discovery. */
  private readonly listed?: string[];
  private readonly pools?: cognito.IUserPool[];
  private readonly discovery?: UserPoolDiscovery;
  /** Whether the list goes to the function as a file beside its code, too long for its environment. */
  private readonly poolsFile: boolean = false;

  constructor(private readonly scope: Construct, props: ImportJobMonitorProps) {
    this.monitorName = props.monitorName ?? defaultMonitorName(scope);
    validateMonitorName(this.monitorName);
    validateRequestRate(props.cognitoRequestsPerSecond);
    this.ownDimensions = { [DIMENSION_MONITOR]: this.monitorName };
    this.defaultAlarmNamePrefix = `ImportJobs-${this.monitorName}`;
    const rate: Record<string, string> = props.cognitoRequestsPerSecond !== undefined
      ? { [ENV_COGNITO_REQUESTS_PER_SECOND]: String(props.cognitoRequestsPerSecond) }
      : {};
    if (props.discoverUserPools !== undefined) {
      const discovery = props.discoverUserPools;
      validateDiscovery(discovery);
      const include = discovery.include ?? [];
      const exclude = discovery.exclude ?? [];
      this.source = 'discoverUserPools';
      this.discovery = discovery;
      this.environment = { [ENV_DISCOVER_USER_POOLS]: discoveryJson(discovery), [ENV_MONITOR_NAME]: this.monitorName, ...rate };
      this.regions = [Stack.of(scope).region];
      this.summary =
        'every user pool of the account in this region, discovered on each run' +
        (include.length > 0 ? `, matching ${include.map((p) => `\`${p}\``).join(', ')}` : '') +
        (exclude.length > 0 ? `, except ${exclude.map((p) => `\`${p}\``).join(', ')}` : '');
      return;
    }
    const pools = props.userPools!;
    const listed = listedPoolIds(pools);
    for (const pool of pools) validateAccount(scope, pool, 'userPools');
    this.source = 'userPools';
    this.listed = listed;
    this.pools = pools;
    this.poolsFile = poolIdsLength(listed) > MAX_POOL_IDS_IN_ENVIRONMENT;
    this.environment = {
      ...(this.poolsFile ? { [ENV_USER_POOL_IDS_FILE]: USER_POOL_IDS_FILE_NAME } : { [ENV_USER_POOL_IDS]: listed.join(',') }),
      [ENV_MONITOR_NAME]: this.monitorName,
      ...rate,
    };
    // Sorted, so that the template does not change with the list's order; the stack's region, a token when the stack is
    // environment-agnostic, last.
    this.regions = [...new Set(pools.map((p) => (Token.isUnresolved(p.userPoolId) ? p.env.region : userPoolRegion(p.userPoolId)!)))]
      .sort((a, b) => Number(Token.isUnresolved(a)) - Number(Token.isUnresolved(b)) || a.localeCompare(b));
    const shown = listed.filter((id) => !Token.isUnresolved(id));
    this.summary =
      `${listed.length.toLocaleString('en-US')} user pool${listed.length === 1 ? '' : 's'} listed` +
      (shown.length > 0 ? ` (${shown.slice(0, 5).map((id) => `\`${id}\``).join(', ')}${listed.length > 5 ? ', ...' : ''})` : '');
  }

  public code(): lambda.Code {
    return handlerCode(this.poolsFile ? this.listed : undefined);
  }

  /**
   * The fleet's Cognito statements, each with the reason for its wildcard, if it has one. A short list names each
   * pool; a long one each of its regions' pools, to keep the role's policy within IAM's size limit; discovery needs
   * `ListUserPools`, which takes no resource but `*`, and every pool of the stack's region. Discovery learns each
   * pool's name from `ListUserPools` (Cognito requires one), so its runs never call `DescribeUserPool` for it.
   */
  public statements(jobEvents: boolean): PolicyGrant[] {
    const actions = poolActions(jobEvents && this.discovery === undefined);
    const readOnly = `the read-only ${actions.map((a) => a.replace('cognito-idp:', '')).join(' and ')}`;
    if (this.discovery !== undefined) {
      return [
        {
          statement: new iam.PolicyStatement({ actions: ['cognito-idp:ListUserPools'], resources: ['*'] }),
          wildcard: 'cognito-idp:ListUserPools has no resource-level permissions (IAM takes only "*" for it): the monitor lists ' +
            "its account's pools with it on each run to find the ones to watch (discoverUserPools).",
        },
        {
          statement: new iam.PolicyStatement({ actions, resources: [allPoolsArn(this.scope, Stack.of(this.scope).region)] }),
          wildcard: `The monitor watches the pools it discovers on each run (discoverUserPools), not known at deploy time: ${readOnly} ` +
            "on the account's pools in the stack's region only.",
        },
      ];
    }
    const pools = this.pools!;
    if (pools.length <= MAX_POOL_ARNS) {
      return [{ statement: new iam.PolicyStatement({ actions, resources: pools.map((pool) => userPoolArn(this.scope, pool)) }) }];
    }
    return [{
      statement: new iam.PolicyStatement({ actions, resources: this.regions.map((region) => allPoolsArn(this.scope, region)) }),
      wildcard: `The monitor watches ${pools.length.toLocaleString('en-US')} listed pools: one ARN each would outgrow IAM's size limit on a role's ` +
        `policies (10,240 characters), so ${readOnly} are on the account's pools in the list's regions.`,
    }];
  }

  /** The events sent from the stack's account and, for a list of at most 20 pools, from those pools. */
  public eventPattern(detailType: string, statuses?: string[]): events.EventPattern {
    const listed = this.listed !== undefined && this.listed.length <= MAX_POOL_ARNS ? { userPoolId: this.listed } : {};
    const detail = { ...listed, ...(statuses ? { status: [...new Set(statuses)] } : {}) };
    return {
      source: [EVENT_SOURCE],
      detailType: [detailType],
      account: [Stack.of(this.scope).account],
      ...(Object.keys(detail).length > 0 ? { detail } : {}),
    };
  }

  /**
   * A fleet publishes no zeros, so missing data is a pool with nothing to report, for the warning gauges too: the
   * pool's contributor returns to OK when its job is started or ends. A fleet that stopped running is the health
   * alarm's to report.
   */
  public treatMissingData(): cloudwatch.TreatMissingData {
    return cloudwatch.TreatMissingData.NOT_BREACHING;
  }

  public checkAlarmOptions(prop: string, options: ResolvedAlarmOptions): void {
    validateInsightsRange(prop, options);
    // A pool that no longer exists fails this many runs in a row, then no more: a higher threshold would never page.
    if (prop === 'poolRunsFailedAlarmOptions' && options.threshold > GONE_POOL_REPORTED_RUNS) {
      throw new PropsError(
        `poolRunsFailedAlarmOptions.threshold is failed runs in a row and must be at most ${GONE_POOL_REPORTED_RUNS}, the failed ` +
          `runs a pool that no longer exists is reported for, got ${options.threshold}`,
      );
    }
  }

  public descriptions(context: DescriptionContext): Descriptions {
    return fleetDescriptions(this.monitorName, this.source, context);
  }

  /** A single pool's accessors have no meaning for a fleet, whose pools are contributors of its queries. */
  public requireOnePool(method: string, fleetMethod: string): void {
    throw new PropsError(
      `${method} gives one pool's metric, and this monitor watches a fleet (${this.source}): use ${fleetMethod}, a Metrics ` +
        'Insights query with a series per pool',
    );
  }

  public requireFleet(): void {}
}

/** What `DISCOVER_USER_POOLS` holds: the patterns, both lists always present. */
function discoveryJson(discovery: UserPoolDiscovery): string {
  return JSON.stringify({ include: discovery.include ?? ['*'], exclude: discovery.exclude ?? [] });
}

/**
 * `<stack name>-<the monitor's path in the stack>`: a stack's name is unique in its account and region, and a path
 * in its stack. Longer than 64 characters, it keeps its start and ends with a hash of the whole.
 */
function defaultMonitorName(monitor: Construct): string {
  const stack = Stack.of(monitor);
  const inStack = monitor.node.scopes.slice(monitor.node.scopes.indexOf(stack) + 1).map((c) => c.node.id);
  const stackName = Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
  const full = [stackName, ...inStack].join('-').replace(/[^A-Za-z0-9._-]/g, '-');
  if (full.length <= 64) return full;
  const hash = crypto.createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 55)}-${hash}`;
}

/** A fleet's pool IDs, each unique, from `userPools`. */
function listedPoolIds(userPools: cognito.IUserPool[]): string[] {
  if (userPools.length === 0) {
    throw new PropsError('userPools must list at least one user pool, got []: use discoverUserPools to watch every pool of the account');
  }
  const seen = new Set<string>();
  for (const pool of userPools) {
    const id = pool.userPoolId;
    validateUserPool(pool, 'userPools');
    if (seen.has(id)) {
      throw new PropsError(`userPools lists user pool ${Token.isUnresolved(id) ? pool.node.path : id} twice: each pool once, or its jobs would be counted twice`);
    }
    seen.add(id);
  }
  return [...seen];
}

/** Characters the list takes in the environment; a pool created in the app counts as the longest ID (55). */
function poolIdsLength(ids: string[]): number {
  return ids.reduce((sum, id) => sum + (Token.isUnresolved(id) ? 55 : id.length), 0) + Math.max(0, ids.length - 1);
}

/** `arn:<partition>:cognito-idp:<region>:<account>:userpool/*`: every pool of the account in one region. */
function allPoolsArn(scope: Construct, region: string, account?: string): string {
  return Stack.of(scope).formatArn({ service: 'cognito-idp', region, account, resource: 'userpool', resourceName: '*' });
}
