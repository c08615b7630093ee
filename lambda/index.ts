/**
 * The scheduled handler: on each tick, whether the pool is due; then one run (lists the pool's import jobs, stores
 * what changed with conditional writes, publishes CloudWatch metrics) and when the pool is next due. A fleet's
 * tick does the same for each of its due pools (fleet.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  isDue,
  nextRunAt,
} from './logic';
import { isFleet, readConfig, readFleetConfig } from './config';
import { Clients, Deadline, TIMEOUT_MARGIN_MS, cognitoClient, createClients, storeClients } from './aws';
import { FleetSummary, runFleet } from './fleet';
import { RunSummary, runOnce } from './run';
import { readNextRunAt, writeNextRunAt } from './state';

export { Config, FleetConfig, readConfig, readFleetConfig } from './config';
export { FleetSummary, isSelected, runFleet } from './fleet';
export { Clients, Deadline, Log, OperationError, RunDependencies, createClients } from './aws';
export { PublishedFigures, publishMetrics } from './metrics';
export { RunSummary, runOnce } from './run';

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
  try {
    const config = readConfig(process.env);
    logger.appendKeys({ userPoolId: config.userPoolId });
    clients ??= createClients(config);
    const deps = { ...clients, config, now: new Date(), log: logger, deadline: deadlineOf(context) };
    // Only the schedule's ticks wait their turn: the deployment's run, or one started by hand, lists at once.
    const cadence = { activeMs: config.activeMs, idleMs: config.periodMs };
    if (isScheduledEvent(event)) {
      const next = await readNextRunAt(deps);
      if (!isDue(deps.now, next, cadence)) return { skipped: true, nextRunAt: next!.toISOString() };
      await jitter(config.activeMs);
    }
    const run = { ...deps, now: new Date() };
    const summary = await runOnce(run);
    await writeNextRunAt(run, nextRunAt(run.now, summary.figures, cadence, summary.stillOwed > 0));
    return summary;
  } catch (error) {
    logger.error('Run failed', { error });
    throw error;
  }
}

// A fleet's clients: its table's and bus's, and its Cognito clients, one per region, made as its pools need them;
// kept with the execution environment.
let fleetClients: Omit<Clients, 'cognito'> | undefined;
const cognitoClients = new Map<string | undefined, ReturnType<typeof cognitoClient>>();

async function fleetHandler(event: unknown, context?: Context): Promise<FleetSummary> {
  try {
    const fleet = readFleetConfig(process.env);
    logger.appendKeys({ monitor: fleet.monitorName });
    fleetClients ??= storeClients(fleet.settings);
    const scheduled = isScheduledEvent(event);
    if (scheduled) await jitter(fleet.settings.activeMs);
    return await runFleet({
      clients: fleetClients,
      cognitoFor: (region = process.env.AWS_REGION) => {
        if (!cognitoClients.has(region)) cognitoClients.set(region, cognitoClient(region, fleet.settings.maxAttempts, fleet.cognitoRequestsPerSecond));
        return cognitoClients.get(region)!;
      },
      fleet,
      log: logger,
      deadline: deadlineOf(context),
      scheduled,
    });
  } catch (error) {
    logger.error('Run failed', { error });
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
function jitter(activeMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_JITTER_MS, activeMs / 20)));
}

const MAX_JITTER_MS = 3_000;

function isScheduledEvent(event: unknown): boolean {
  return (event as { 'detail-type'?: string } | undefined)?.['detail-type'] === 'Scheduled Event';
}
