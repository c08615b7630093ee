/** The handler's settings, read from the environment the construct sets. */
import * as fs from 'fs';
import * as path from 'path';
import {
  DEFAULT_METRIC_NAMESPACE,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_USER_POOL_ID,
  ENV_ACTIVE_SCHEDULE_SECONDS,
  ENV_AWAITING_START_SECONDS,
  ENV_STUCK_SECONDS,
  ENV_WARNING_ZEROS_SECONDS,
  ENV_EVENT_BUS_NAME,
  ENV_USER_POOL_IDS,
  ENV_USER_POOL_IDS_FILE,
  ENV_DISCOVER_USER_POOLS,
  ENV_MONITOR_NAME,
  ENV_COGNITO_REQUESTS_PER_SECOND,
  userPoolRegion,
} from '../lib/contract';
import { Cadence } from './cadence';
import { WarningLimits } from './figures';

export interface Config extends Cadence {
  readonly userPoolId: string;
  /** The pool's region, from its ID: Cognito is called there, wherever the function runs. */
  readonly userPoolRegion: string;
  readonly tableName: string;
  readonly namespace: string;
  readonly warnings: WarningLimits;
  /** Attempts per AWS call, retries included. */
  readonly maxAttempts: number;
  /** The ARN (or name) of the bus job events go to; undefined when events are off. */
  readonly eventBusName?: string;
  /**
   * Up to how many bytes of compressed job states a pool keeps in one item of the state table, before it spreads them
   * over 16 (`STATE_SINGLE_ITEM_BYTES`, set by tests and the benchmark, not by the construct; 0: 16 from the start).
   * @default 200000
   */
  readonly singleItemBytes?: number;
  /**
   * A single pool's (`WARNING_ZEROS_SECONDS`): for how long after a job's end its runs publish the warning gauges'
   * zeros, which its warning alarms, keeping their state when data is missing, need to clear. Undefined for a fleet's
   * pools, whose warning alarms treat missing data as not breaching.
   */
  readonly warningZerosMs?: number;
  /** This run publishes the warning gauges' zeros whatever it finds: a single pool's deployment run, or one by hand. */
  readonly publishWarningZeros?: boolean;
  /**
   * A single pool's Cognito calls a second at most (`COGNITO_REQUESTS_PER_SECOND`), paced as a fleet's pools are.
   * A fleet's pools share their region's client instead, paced at the fleet's rate.
   * @default 10
   */
  readonly cognitoRequestsPerSecond?: number;
}

/** The settings the pools of a monitor share. */
export type Settings = Omit<Config, 'userPoolId' | 'userPoolRegion' | 'cognitoRequestsPerSecond' | 'warningZerosMs' | 'publishWarningZeros'>;

/** Where a fleet's pools come from: a list, or every pool of the function's account and region, filtered. */
export type PoolSource =
  | { readonly kind: 'list'; readonly userPoolIds: readonly string[] }
  | { readonly kind: 'discover'; readonly include: readonly string[]; readonly exclude: readonly string[] };

export interface FleetConfig {
  readonly source: PoolSource;
  /** Cognito calls a second at most, per region, across the fleet's pools. */
  readonly cognitoRequestsPerSecond: number;
  /** The `Monitor` dimension of the fleet's own metrics. */
  readonly monitorName: string;
  readonly settings: Settings;
}

// Not set by the construct: how many bytes of job states a pool keeps in one item (Config.singleItemBytes).
const ENV_SINGLE_ITEM_BYTES = 'STATE_SINGLE_ITEM_BYTES';

// The SDK's own setting for attempts per call; the SDK reads it only when the client is given no maxAttempts.
const ENV_MAX_ATTEMPTS = 'AWS_MAX_ATTEMPTS';
// Adaptive retries need room to back off under throttling: Cognito's request quotas are per account and region,
// shared with every other caller of the same category of operations, not per pool.
export const DEFAULT_MAX_ATTEMPTS = 8;

// ListUserImportJobs, DescribeUserPool and ListUserPools read user pools: Cognito's quotas page puts such operations
// in the UserPoolRead category, 15 requests a second per account and region, not adjustable, shared with every
// other caller. A monitor keeps to two thirds of it, leaving the rest to the console, the CLI and deployments: a
// single pool too, whose pages come as fast as Cognito answers, and whose pagination token might never end.
export const DEFAULT_COGNITO_REQUESTS_PER_SECOND = 10;

// The construct's default for both warning limits, 12 hours.
export const DEFAULT_WARNING_SECONDS = 12 * 3600;

function wholeSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  if (env[name] === undefined) return fallback;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value < 60) {
    throw new Error(`${name} must be a whole number of seconds, at least 60, got ${JSON.stringify(env[name])}`);
  }
  return value;
}

/** Whether the environment is a fleet's: a list of pools, or `DISCOVER_USER_POOLS`, rather than `USER_POOL_ID`. */
export function isFleet(env: NodeJS.ProcessEnv): boolean {
  return [ENV_USER_POOL_IDS, ENV_USER_POOL_IDS_FILE, ENV_DISCOVER_USER_POOLS].some((name) => env[name] !== undefined);
}

/** Reads a single pool's settings, failing with the name and value of the first bad one. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const settings = readSettings(env);
  const config = {
    ...poolConfig(settings, env[ENV_USER_POOL_ID] ?? ''),
    // Without the construct's value (a function deployed before 0.2.0), the default warning alarms' range and the schedule.
    warningZerosMs: wholeSeconds(env, ENV_WARNING_ZEROS_SECONDS, DEFAULT_WARNING_ZEROS_SECONDS + settings.scheduleMs / 1000) * 1000,
  };
  return env[ENV_COGNITO_REQUESTS_PER_SECOND] === undefined ? config : { ...config, cognitoRequestsPerSecond: readRequestRate(env) };
}

// The default warning alarms' evaluation range: (1 evaluation period + 2) x 5 minutes (docs/alarm-evaluation.md).
const DEFAULT_WARNING_ZEROS_SECONDS = 15 * 60;

/** One pool's settings, from those its monitor's pools share. */
export function poolConfig(settings: Settings, userPoolId: string): Config {
  const region = userPoolRegion(userPoolId);
  if (region === undefined) {
    throw new Error(`${ENV_USER_POOL_ID} must be a user pool ID such as eu-west-1_AbC123, got ${JSON.stringify(userPoolId)}`);
  }
  return { ...settings, userPoolId, userPoolRegion: region };
}

/** Reads a fleet's settings, failing with the name and value of the first bad one. */
export function readFleetConfig(env: NodeJS.ProcessEnv, dir = __dirname): FleetConfig {
  const list = env[ENV_USER_POOL_IDS] ?? listFile(env, dir);
  const discover = env[ENV_DISCOVER_USER_POOLS];
  const given = [ENV_USER_POOL_ID, ENV_USER_POOL_IDS, ENV_USER_POOL_IDS_FILE, ENV_DISCOVER_USER_POOLS].filter((name) => env[name] !== undefined);
  if (given.length !== 1) {
    throw new Error(
      `exactly one of ${ENV_USER_POOL_ID}, ${ENV_USER_POOL_IDS}, ${ENV_USER_POOL_IDS_FILE} and ${ENV_DISCOVER_USER_POOLS} must be set, got ${given.join(', ') || 'none'}`,
    );
  }
  const monitorName = env[ENV_MONITOR_NAME] ?? '';
  if (monitorName === '') throw new Error(`${ENV_MONITOR_NAME} must name the monitor, got ${JSON.stringify(env[ENV_MONITOR_NAME])}`);
  let source: PoolSource;
  if (list !== undefined) {
    const userPoolIds = list.split(',').map((id) => id.trim());
    const bad = userPoolIds.find((id) => userPoolRegion(id) === undefined);
    if (bad !== undefined || userPoolIds.length === 0) {
      throw new Error(`${ENV_USER_POOL_IDS} must list user pool IDs such as eu-west-1_AbC123, separated by commas, got ${JSON.stringify(bad ?? list)}`);
    }
    source = { kind: 'list', userPoolIds: [...new Set(userPoolIds)] };
  } else {
    source = { kind: 'discover', ...readPatterns(discover!) };
  }
  return { source, monitorName, cognitoRequestsPerSecond: readRequestRate(env), settings: readSettings(env) };
}

/** Cognito calls a second at most: a single pool's, or per region for a fleet's pools. */
function readRequestRate(env: NodeJS.ProcessEnv): number {
  const rate = env[ENV_COGNITO_REQUESTS_PER_SECOND] === undefined ? DEFAULT_COGNITO_REQUESTS_PER_SECOND : Number(env[ENV_COGNITO_REQUESTS_PER_SECOND]);
  // At least one: calls are spaced 1,000 / rate ms apart, and below one a second a tick of a few pages outlasts its deadline.
  if (!(rate >= 1 && rate <= 1000)) {
    throw new Error(`${ENV_COGNITO_REQUESTS_PER_SECOND} must be a number of calls a second from 1 to 1000, got ${JSON.stringify(env[ENV_COGNITO_REQUESTS_PER_SECOND])}`);
  }
  return rate;
}

/** The pools listed in the file `USER_POOL_IDS_FILE` names, beside the bundle, as a `USER_POOL_IDS` value. */
function listFile(env: NodeJS.ProcessEnv, dir: string): string | undefined {
  const name = env[ENV_USER_POOL_IDS_FILE];
  if (name === undefined) return undefined;
  let ids: unknown;
  try {
    ids = JSON.parse(fs.readFileSync(path.join(dir, path.basename(name)), 'utf8'));
  } catch (error) {
    throw new Error(`${ENV_USER_POOL_IDS_FILE} must name a JSON file beside the handler, got ${JSON.stringify(name)}: ${(error as Error).message}`);
  }
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
    throw new Error(`${ENV_USER_POOL_IDS_FILE} must name a JSON array of user pool IDs, got ${JSON.stringify(name)}`);
  }
  return ids.join(',');
}

function readPatterns(json: string): { include: string[]; exclude: string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  const patterns = (key: string): string[] | undefined => {
    const value = (parsed as Record<string, unknown> | undefined)?.[key] ?? [];
    return Array.isArray(value) && value.every((p) => typeof p === 'string' && p !== '') ? value : undefined;
  };
  const include = patterns('include');
  const exclude = patterns('exclude');
  if (typeof parsed !== 'object' || parsed === null || include === undefined || exclude === undefined) {
    throw new Error(
      `${ENV_DISCOVER_USER_POOLS} must be JSON such as {"include":["tenant-*"],"exclude":[]}, lists of non-empty patterns, got ${JSON.stringify(json)}`,
    );
  }
  return { include, exclude };
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const tableName = env[ENV_STATE_TABLE_NAME] ?? '';
  if (tableName === '') {
    throw new Error(`${ENV_STATE_TABLE_NAME} must name the state table, got ${JSON.stringify(tableName)}`);
  }
  const scheduleSeconds = Number(env[ENV_SCHEDULE_SECONDS]);
  if (!Number.isInteger(scheduleSeconds) || scheduleSeconds < 60) {
    throw new Error(
      `${ENV_SCHEDULE_SECONDS} must be a whole number of seconds, at least 60, got ${JSON.stringify(env[ENV_SCHEDULE_SECONDS])}`,
    );
  }
  const activeScheduleSeconds = env[ENV_ACTIVE_SCHEDULE_SECONDS] === undefined ? 60 : Number(env[ENV_ACTIVE_SCHEDULE_SECONDS]);
  if (!Number.isInteger(activeScheduleSeconds) || activeScheduleSeconds < 1 || activeScheduleSeconds > scheduleSeconds) {
    throw new Error(
      `${ENV_ACTIVE_SCHEDULE_SECONDS} must be a whole number of seconds from 1 to ${ENV_SCHEDULE_SECONDS} (${scheduleSeconds}), ` +
        `got ${JSON.stringify(env[ENV_ACTIVE_SCHEDULE_SECONDS])}`,
    );
  }
  const awaitingStartSeconds = wholeSeconds(env, ENV_AWAITING_START_SECONDS, DEFAULT_WARNING_SECONDS);
  const stuckSeconds = wholeSeconds(env, ENV_STUCK_SECONDS, DEFAULT_WARNING_SECONDS);
  const maxAttempts = env[ENV_MAX_ATTEMPTS] === undefined ? DEFAULT_MAX_ATTEMPTS : Number(env[ENV_MAX_ATTEMPTS]);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`${ENV_MAX_ATTEMPTS} must be a whole number, at least 1, got ${JSON.stringify(env[ENV_MAX_ATTEMPTS])}`);
  }
  const singleItemBytes = env[ENV_SINGLE_ITEM_BYTES] === undefined ? undefined : Number(env[ENV_SINGLE_ITEM_BYTES]);
  if (singleItemBytes !== undefined && !(Number.isInteger(singleItemBytes) && singleItemBytes >= 0)) {
    throw new Error(`${ENV_SINGLE_ITEM_BYTES} must be a whole number of bytes, got ${JSON.stringify(env[ENV_SINGLE_ITEM_BYTES])}`);
  }
  return {
    tableName,
    namespace: env[ENV_METRIC_NAMESPACE] || DEFAULT_METRIC_NAMESPACE,
    scheduleMs: scheduleSeconds * 1000,
    activeScheduleMs: activeScheduleSeconds * 1000,
    warnings: { awaitingStartMs: awaitingStartSeconds * 1000, stuckMs: stuckSeconds * 1000 },
    maxAttempts,
    eventBusName: env[ENV_EVENT_BUS_NAME] || undefined,
    ...(singleItemBytes !== undefined && { singleItemBytes }),
  };
}
