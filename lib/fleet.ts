import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack, Token, aws_cognito as cognito, aws_iam as iam } from 'aws-cdk-lib';
import * as cdk from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DIMENSION_STATUS, DIMENSION_USER_POOL_ID, userPoolRegion } from './contract';

/**
 * Which user pools a fleet monitor watches when it discovers them: every pool of the stack's account and region
 * (`ListUserPools`, on each run), narrowed by patterns. A pattern is matched against the pool's ID and its name;
 * `*` stands for any run of characters (`tenant-*`, `eu-west-1_*`, `*-staging`), and a pattern without `*` must
 * match the whole ID or name.
 */
export interface UserPoolDiscovery {
  /**
   * Watch only the pools whose ID or name matches one of these patterns (at least one when given).
   * @default - every pool of the account in the stack's region
   */
  readonly include?: string[];

  /**
   * Leave out the pools whose ID or name matches one of these patterns, even when `include` matches them.
   * @default - none left out
   */
  readonly exclude?: string[];
}

/** Options of the fleet's metrics, which are CloudWatch Metrics Insights queries over its pools. */
export interface FleetMetricOptions {
  /**
   * The period of the query.
   * @default - the monitor's schedule
   */
  readonly period?: Duration;

  /**
   * One time series per pool (`GROUP BY UserPoolId`, the 500 largest at most), or one for the whole fleet. Only
   * pools with something to report in the period have a series: a fleet publishes no zeros.
   * @default true
   */
  readonly byPool?: boolean;

  /**
   * The label of the series.
   * @default - each series is labelled with its pool ID (`byPool`, on aws-cdk-lib versions that render an empty label
   *   as none), or with the query
   */
  readonly label?: string;

  /**
   * The color of the series, as a hex code (`#1f77b4`).
   * @default - automatic
   */
  readonly color?: string;
}

/** The name of the file beside the handler bundle that lists a fleet's pools (see `ENV_USER_POOL_IDS_FILE`). */
export const USER_POOL_IDS_FILE_NAME = 'user-pools.json';

/** Characters of `USER_POOL_IDS` kept in the environment; the other variables take at most about 1 KB. */
export const MAX_POOL_IDS_IN_ENVIRONMENT = 2500;

/**
 * Up to this many pools, the role names each pool's ARN; beyond, it names `userpool/*` in each of the list's
 * regions. An ARN is about 75 characters, and a role's inline policies may hold 10,240 in all: 20 ARNs stay well
 * inside that beside the function's other statements.
 */
export const MAX_POOL_ARNS = 20;

/** Metrics Insights alarms evaluate only the latest 3 hours of data. */
export const MAX_INSIGHTS_ALARM_RANGE = Duration.hours(3);

// A pool ID or name as Cognito takes them (names: [\w\s+=,.@-]+, at most 128), with * for any run of characters.
const PATTERN = /^[\w\s+=,.@*-]{1,128}$/;

export function validateDiscovery(discovery: UserPoolDiscovery): void {
  for (const key of ['include', 'exclude'] as const) {
    const patterns = discovery[key];
    if (patterns === undefined || Token.isUnresolved(patterns)) continue;
    if (key === 'include' && patterns.length === 0) {
      throw new Error('discoverUserPools.include must name at least one pattern when given, got []: leave it out to watch every pool');
    }
    for (const pattern of patterns) {
      if (Token.isUnresolved(pattern)) continue;
      if (!PATTERN.test(pattern) || pattern.trim() === '') {
        throw new Error(
          `discoverUserPools.${key} takes patterns of 1 to 128 letters, digits, spaces or + = , . @ - _ with * for any run ` +
            `of characters, got ${JSON.stringify(pattern)}`,
        );
      }
    }
  }
}

/** What `DISCOVER_USER_POOLS` holds: the patterns, both lists always present. */
export function discoveryJson(discovery: UserPoolDiscovery): string {
  return JSON.stringify({ include: discovery.include ?? ['*'], exclude: discovery.exclude ?? [] });
}

const MONITOR_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function validateMonitorName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!MONITOR_NAME.test(name)) {
    throw new Error(`monitorName must be 1 to 64 letters, digits or . _ -, got ${JSON.stringify(name)}`);
  }
}

/**
 * `<stack name>-<the monitor's path in the stack>`: a stack's name is unique in its account and region, and a path
 * in its stack. Longer than 64 characters, it keeps its start and ends with a hash of the whole.
 */
export function defaultMonitorName(monitor: Construct): string {
  const stack = Stack.of(monitor);
  const inStack = monitor.node.scopes.slice(monitor.node.scopes.indexOf(stack) + 1).map((c) => c.node.id);
  const stackName = Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
  const full = [stackName, ...inStack].join('-').replace(/[^A-Za-z0-9._-]/g, '-');
  if (full.length <= 64) return full;
  const hash = crypto.createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 55)}-${hash}`;
}

/** A fleet's pool IDs, each unique, from `userPools`. */
export function listedPoolIds(userPools: cognito.IUserPool[]): string[] {
  if (userPools.length === 0) {
    throw new Error('userPools must list at least one user pool, got []: use discoverUserPools to watch every pool of the account');
  }
  const seen = new Set<string>();
  for (const pool of userPools) {
    const id = pool.userPoolId;
    if (!Token.isUnresolved(id) && userPoolRegion(id) === undefined) {
      throw new Error(
        `userPools must hold user pools with IDs like eu-west-1_AbC123 (its region, an underscore, letters and digits), got ${JSON.stringify(id)}`,
      );
    }
    if (seen.has(id)) {
      throw new Error(`userPools lists user pool ${Token.isUnresolved(id) ? pool.node.path : id} twice: each pool once, or its jobs would be counted twice`);
    }
    seen.add(id);
  }
  return [...seen];
}

/** Characters the list takes in the environment; a pool created in the app counts as the longest ID (55). */
export function poolIdsLength(ids: string[]): number {
  return ids.reduce((sum, id) => sum + (Token.isUnresolved(id) ? 55 : id.length), 0) + Math.max(0, ids.length - 1);
}

/**
 * A copy of the handler bundle with the list of pools beside it, in a new directory of this synth's own (private to
 * its user, so that nobody else on a shared build host can put code there). The asset is hashed by its content, so
 * the function changes only when the list or the bundle does.
 */
export function stageBundleWithPools(bundleDir: string, ids: string[]): string {
  const tokens = ids.filter((id) => Token.isUnresolved(id));
  if (tokens.length > 0) {
    throw new Error(
      `userPools lists ${ids.length} pools, too many for the function's environment, and ${tokens.length} of them are created ` +
        'in this app, whose IDs are not known at synth: import them by ID (UserPool.fromUserPoolId), or monitor them apart',
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-job-monitor-'));
  fs.copyFileSync(path.join(bundleDir, 'index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, USER_POOL_IDS_FILE_NAME), JSON.stringify([...ids].sort()));
  return dir;
}

/** The per-pool actions the function needs on each pool of a fleet. */
export function poolActions(jobEvents: boolean): string[] {
  // DescribeUserPool: the pool's name, which the job events' import log location needs.
  return ['cognito-idp:ListUserImportJobs', ...(jobEvents ? ['cognito-idp:DescribeUserPool'] : [])];
}

/** `arn:<partition>:cognito-idp:<region>:<account>:userpool/*`: every pool of the account in one region. */
export function allPoolsArn(scope: Construct, region: string, account?: string): string {
  return Stack.of(scope).formatArn({ service: 'cognito-idp', region, account, resource: 'userpool', resourceName: '*' });
}

/**
 * Tells cdk-nag (3, through aws-cdk-lib's `Validations`; 2, through the `cdk_nag` metadata of the policy) why each
 * wildcard resource is there, one acknowledgement per finding, so that any other wildcard is still reported.
 * `Validations` is absent from older aws-cdk-lib releases, where cdk-nag 3 does not run either.
 */
export function acknowledgeWildcards(role: iam.Role, findings: { resource: string; reason: string }[]): void {
  if (findings.length === 0) return;
  const stack = Stack.of(role);
  const flat = findings.map((f) => ({ appliesTo: `Resource::${flatten(stack.resolve(f.resource))}`, reason: f.reason }));
  const validations = (cdk as { Validations?: { of(scope: Construct): { acknowledge?: (...rules: { id: string; reason: string }[]) => void } } }).Validations;
  const ofRole = validations?.of(role);
  ofRole?.acknowledge?.(...flat.map((f) => ({ id: `AwsSolutions::AwsSolutions-IAM5[${f.appliesTo}]`, reason: f.reason })));
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
  policy?.addMetadata('cdk_nag', {
    rules_to_suppress: flat.map((f) => ({ id: 'AwsSolutions-IAM5', reason: f.reason, applies_to: [f.appliesTo] })),
  });
}

/** A resolved ARN as cdk-nag names it: references as `<Name>`, joins joined. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref !== undefined) return `<${v.Ref as string}>`;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}

/** One Metrics Insights query: which metric, with which statistic, over which dimensions. */
export interface InsightsQuery {
  readonly fn: 'SUM' | 'MAX';
  readonly metricName: string;
  /** The metric's dimensions besides `UserPoolId`: `Status`, or none. */
  readonly withStatus: boolean;
  /** Statuses to keep (`Status = ...`), or to leave out (`Status != ...`). */
  readonly status?: string;
  readonly excludeStatuses?: readonly string[];
  /** `GROUP BY UserPoolId` (and `Status`, with `byStatus`): a series, and an alarm contributor, per pool. */
  readonly byPool: boolean;
  readonly byStatus?: boolean;
  /** A single pool's monitor restricts the query to its pool. */
  readonly userPoolId?: string;
}

/**
 * The query text, e.g. `SELECT SUM(JobsCompleted) FROM SCHEMA("Cognito/UserImportJobs", Status, UserPoolId)
 * WHERE Status = 'Failed' GROUP BY UserPoolId ORDER BY SUM() DESC`. `SCHEMA` matches the metrics with exactly
 * these dimensions; `ORDER BY` makes the 500 series a query returns at most the largest ones.
 */
export function insightsQuery(namespace: string, q: InsightsQuery): string {
  const dims = q.withStatus ? `${DIMENSION_STATUS}, ${DIMENSION_USER_POOL_ID}` : DIMENSION_USER_POOL_ID;
  const where = [
    ...(q.userPoolId !== undefined ? [`${DIMENSION_USER_POOL_ID} = '${q.userPoolId}'`] : []),
    ...(q.status !== undefined ? [`${DIMENSION_STATUS} = '${q.status}'`] : []),
    ...(q.excludeStatuses ?? []).map((s) => `${DIMENSION_STATUS} != '${s}'`),
  ];
  const groups = [DIMENSION_USER_POOL_ID, ...(q.byStatus ? [DIMENSION_STATUS] : [])];
  return [
    `SELECT ${q.fn}(${q.metricName}) FROM SCHEMA("${namespace}", ${dims})`,
    ...(where.length > 0 ? [`WHERE ${where.join(' AND ')}`] : []),
    ...(q.byPool ? [`GROUP BY ${groups.join(', ')} ORDER BY ${q.fn}() DESC`] : []),
  ].join(' ');
}
