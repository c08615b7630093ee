/**
 * The scheduled handler: on each tick, whether the pool is due; then the pool's run (lists its import jobs, stores
 * what changed with conditional writes, publishes CloudWatch metrics, writes when it is next due). A fleet's tick
 * runs each of its due pools the same way (fleet.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DIMENSION_MONITOR, DIMENSION_USER_POOL_ID } from '../lib/contract';
import { isDue } from './cadence';
import { Deadline, TIMEOUT_MARGIN_MS } from './calls';
import { Clients, cognitoClient, createClients, storeClients } from './clients';
import { Config, FleetConfig, isFleet, readConfig, readFleetConfig } from './config';
import { FleetSummary, runFleet } from './fleet';
import { publishHeartbeat } from './metrics';
import { RunSummary, runPool, stateStore } from './run';

export { Config, FleetConfig, readConfig, readFleetConfig } from './config';
export { FleetSummary, isSelected, runFleet } from './fleet';
export { Deadline, Log, OperationError } from './calls';
export { Clients, createClients } from './clients';
export { PublishedFigures } from './figures';
export { publishMetrics } from './metrics';
export { RunDependencies, RunSummary, runOnce, runPool } from './run';

// Created by the first invocation, once its configuration is read, and reused by every later one:
// the configuration is the execution environment's and does not change.
let clients: Clients | undefined;
const logger = new Logger({ serviceName: 'import-job-monitor' });

/** What a scheduled tick did when the pool was not due: nothing but read when it will be. */
export type SkippedRun = { readonly skipped: true; readonly nextRunAt: string };

type Context = { getRemainingTimeInMillis(): number };

export async function handler(event: unknown, context?: Context): Promise<RunSummary | SkippedRun | FleetSummary> {
  return isFleet(process.env) ? fleetHandler(event, context) : poolHandler(event, context);
}

async function poolHandler(event: unknown, context?: Context): Promise<RunSummary | SkippedRun> {
  let config: Config | undefined;
  let worked = false;
  try {
    config = readConfig(process.env);
    logger.appendKeys({ userPoolId: config.userPoolId });
    clients ??= createClients(config);
    const deps = { ...clients, config, now: new Date(), log: logger, deadline: deadlineOf(context), nameOnFirstRun: true };
    // Only the schedule's ticks wait their turn: the deployment's run, or one started by hand, lists at once, and
    // publishes the warning gauges' zeros, so that a new pool's warning alarms start OK rather than without data.
    // A pool's first run (no due time stored yet) does too, for a monitor deployed without the deployment's run.
    const scheduled = isScheduledEvent(event);
    let first = !scheduled;
    if (scheduled) {
      const next = await stateStore(deps).readNextRunAt();
      // A pool not due was listed in time by a run that worked: the monitor works.
      worked = !isDue(deps.now, next, config);
      if (worked) return { skipped: true, nextRunAt: next!.toISOString() };
      first = next === undefined;
    }
    const summary = await runPool({ ...deps, config: first ? { ...config, publishWarningZeros: true } : config, now: new Date() });
    worked = summary.complete;
    return summary;
  } catch (error) {
    logger.error('Run failed', { error });
    throw error;
  } finally {
    if (config) publishHeartbeat(config.namespace, { [DIMENSION_USER_POOL_ID]: config.userPoolId }, new Date(), worked);
  }
}

// A fleet's clients: its table's and bus's, and its Cognito clients, one per region, made as its pools need them;
// kept with the execution environment.
let fleetClients: Omit<Clients, 'cognito'> | undefined;
const cognitoClients = new Map<string | undefined, ReturnType<typeof cognitoClient>>();

async function fleetHandler(event: unknown, context?: Context): Promise<FleetSummary> {
  let fleet: FleetConfig | undefined;
  try {
    fleet = readFleetConfig(process.env);
    logger.appendKeys({ monitor: fleet.monitorName });
    fleetClients ??= storeClients(fleet.settings);
    const scheduled = isScheduledEvent(event);
    const { settings, cognitoRequestsPerSecond } = fleet;
    return await runFleet({
      clients: fleetClients,
      cognitoFor: (region = process.env.AWS_REGION) => {
        if (!cognitoClients.has(region)) cognitoClients.set(region, cognitoClient(region, settings.maxAttempts, cognitoRequestsPerSecond));
        return cognitoClients.get(region)!;
      },
      fleet,
      log: logger,
      deadline: deadlineOf(context),
      scheduled,
    });
  } catch (error) {
    logger.error('Run failed', { error });
    // A tick that failed before it could run its pools (runFleet sends the heartbeat of one that ran them).
    if (fleet) publishHeartbeat(fleet.settings.namespace, { [DIMENSION_MONITOR]: fleet.monitorName }, new Date(), false);
    throw error;
  }
}

/** When the run must end: 5 s before the function's timeout, with a signal that aborts the calls still under way. */
function deadlineOf(context?: Context): Deadline | undefined {
  if (!context) return undefined;
  const budgetMs = Math.max(1, context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS);
  return { at: new Date(Date.now() + budgetMs), signal: AbortSignal.timeout(budgetMs) };
}

// No tick sleeps to spread monitors over the minute: Lambda bills the sleep as duration (a fleet's 0 to 3 s, a
// tick a minute, was most of its bill), and the spreading it bought is had for free: EventBridge runs a scheduled
// rule within its minute, not on its 0th second, and each monitor paces its own Cognito calls (10 a second at most)
// with adaptive retries that slow down when throttled (docs/cadence.md).

function isScheduledEvent(event: unknown): boolean {
  return (event as { 'detail-type'?: string } | undefined)?.['detail-type'] === 'Scheduled Event';
}
