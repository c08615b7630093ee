/**
 * The scheduled handler: on each tick, whether the pool is due; then one run (lists the pool's import jobs, stores
 * what changed with conditional writes, publishes CloudWatch metrics) and when the pool is next due.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  isDue,
  nextRunAt,
} from './logic';
import { readConfig } from './config';
import { Clients, Deadline, TIMEOUT_MARGIN_MS, createClients } from './aws';
import { RunSummary, runOnce } from './run';
import { readNextRunAt, writeNextRunAt } from './state';

export { Config, readConfig } from './config';
export { Clients, Deadline, Log, OperationError, RunDependencies, createClients } from './aws';
export { PublishedFigures, publishMetrics } from './metrics';
export { RunSummary, runOnce } from './run';

// Created by the first invocation, once its configuration is read, and reused by every later one:
// the configuration is the execution environment's and does not change.
let clients: Clients | undefined;
const logger = new Logger({ serviceName: 'import-job-monitor' });

/** What a scheduled tick did when the pool was not due: nothing but read when it will be. */
export type SkippedRun = { readonly skipped: true; readonly nextRunAt: string };

export async function handler(event: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<RunSummary | SkippedRun> {
  try {
    const config = readConfig(process.env);
    logger.appendKeys({ userPoolId: config.userPoolId });
    clients ??= createClients(config);
    let deadline: Deadline | undefined;
    if (context) {
      const budgetMs = Math.max(1, context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS);
      deadline = { at: new Date(Date.now() + budgetMs), signal: AbortSignal.timeout(budgetMs) };
    }
    const deps = { ...clients, config, now: new Date(), log: logger, deadline };
    // Only the schedule's ticks wait their turn: the deployment's run, or one started by hand, lists at once.
    const cadence = { activeMs: config.activeMs, idleMs: config.periodMs };
    if (isScheduledEvent(event)) {
      const next = await readNextRunAt(deps);
      if (!isDue(deps.now, next, cadence)) return { skipped: true, nextRunAt: next!.toISOString() };
      // Monitors ticking at the same second share one account's Cognito quota: spread them a little.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_JITTER_MS, config.activeMs / 20)));
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

const MAX_JITTER_MS = 3_000;

function isScheduledEvent(event: unknown): boolean {
  return (event as { 'detail-type'?: string } | undefined)?.['detail-type'] === 'Scheduled Event';
}
