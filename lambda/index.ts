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
    const deps = { ...clients, config, now: new Date(), log: logger, deadline: deadlineOf(context) };
    // Only the schedule's ticks wait their turn: the deployment's run, or one started by hand, lists at once.
    if (isScheduledEvent(event)) {
      const next = await stateStore(deps).readNextRunAt();
      // A pool not due was listed in time by a run that worked: the monitor works.
      worked = !isDue(deps.now, next, config);
      if (worked) return { skipped: true, nextRunAt: next!.toISOString() };
      await jitter(config.activeScheduleMs);
    }
    const summary = await runPool({ ...deps, now: new Date() });
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
    if (scheduled) await jitter(fleet.settings.activeScheduleMs);
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

// Monitors ticking at the same second share one account's Cognito quota: spread them a little.
function jitter(activeScheduleMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_JITTER_MS, activeScheduleMs / 20)));
}

const MAX_JITTER_MS = 3_000;

function isScheduledEvent(event: unknown): boolean {
  return (event as { 'detail-type'?: string } | undefined)?.['detail-type'] === 'Scheduled Event';
}
