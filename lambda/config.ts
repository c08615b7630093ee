/** The handler's settings, read from the environment the construct sets. */
import {
  DEFAULT_METRIC_NAMESPACE,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_USER_POOL_ID,
  ENV_ACTIVE_SCHEDULE_SECONDS,
  ENV_AWAITING_START_SECONDS,
  ENV_STUCK_SECONDS,
  ENV_EVENT_BUS_NAME,
  userPoolRegion,
} from '../lib/contract';
import {
  WarningLimits,
} from './logic';

export interface Config {
  readonly userPoolId: string;
  /** The pool's region, from its ID: Cognito is called there, wherever the function runs. */
  readonly userPoolRegion: string;
  readonly tableName: string;
  readonly namespace: string;
  readonly periodMs: number;
  /** How often to list while a job is unfinished, and how often scheduled ticks come. */
  readonly activeMs: number;
  readonly warnings: WarningLimits;
  /** Attempts per AWS call, retries included. */
  readonly maxAttempts: number;
  /** The ARN (or name) of the bus job events go to; undefined when events are off. */
  readonly eventBusName?: string;
}

// The SDK's own setting for attempts per call; the SDK reads it only when the client is given no maxAttempts.
const ENV_MAX_ATTEMPTS = 'AWS_MAX_ATTEMPTS';
// Adaptive retries need room to back off under throttling: Cognito's request quotas are per account and region,
// shared with every other caller of the same category of operations, not per pool.
const DEFAULT_MAX_ATTEMPTS = 8;

// The construct's default for both warning limits, 12 hours.
const DEFAULT_WARNING_SECONDS = 12 * 3600;

function wholeSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  if (env[name] === undefined) return fallback;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value < 60) {
    throw new Error(`${name} must be a whole number of seconds, at least 60, got ${JSON.stringify(env[name])}`);
  }
  return value;
}

/** Reads the handler's settings, failing with the name and value of the first bad one. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const userPoolId = env[ENV_USER_POOL_ID] ?? '';
  const region = userPoolRegion(userPoolId);
  if (region === undefined) {
    throw new Error(`${ENV_USER_POOL_ID} must be a user pool ID such as eu-west-1_AbC123, got ${JSON.stringify(userPoolId)}`);
  }
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
  const activeSeconds = env[ENV_ACTIVE_SCHEDULE_SECONDS] === undefined ? 60 : Number(env[ENV_ACTIVE_SCHEDULE_SECONDS]);
  if (!Number.isInteger(activeSeconds) || activeSeconds < 1 || activeSeconds > scheduleSeconds) {
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
  return {
    userPoolId,
    userPoolRegion: region,
    tableName,
    namespace: env[ENV_METRIC_NAMESPACE] || DEFAULT_METRIC_NAMESPACE,
    periodMs: scheduleSeconds * 1000,
    activeMs: activeSeconds * 1000,
    warnings: { awaitingStartMs: awaitingStartSeconds * 1000, stuckMs: stuckSeconds * 1000 },
    maxAttempts,
    eventBusName: env[ENV_EVENT_BUS_NAME] || undefined,
  };
}
