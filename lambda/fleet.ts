/**
 * A tick of a fleet: every pool of a list, or of the account and region (discovered each tick), each run on its own
 * as a single pool is, most overdue first, a few at a time; one pool's failure is reported and stops no other.
 */
import { CognitoIdentityProviderClient, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DIMENSION_MONITOR,
  DIMENSION_USER_POOL_ID,
  EVENT_DETAIL_TYPE_POOL_RUN_FAILED,
  METRIC_HEARTBEAT,
  METRIC_POOLS_MONITORED,
  METRIC_POOL_RUNS_FAILED,
} from '../lib/contract';
import { Clients, Deadline, Log, RunDependencies, call } from './aws';
import { Config, FleetConfig, poolConfig } from './config';
import { isDue, nextRunAt } from './logic';
import { PUT_EVENTS_BATCH, busEntry } from './events';
import { publish } from './metrics';
import { mapWithConcurrency, runOnce } from './run';
import { readAllNextRunAt, writeNextRunAt } from './state';

// Pools run at once. Cognito's request quotas are per account and region and shared with every other caller: the
// pools of a region share one client, which spaces its calls out (COGNITO_REQUESTS_PER_SECOND, 10 by default) and
// whose adaptive retries slow all of them down when Cognito throttles all the same.
const POOL_CONCURRENCY = 4;
// A pool is started only with this much of the run's time left, and of the tick's own interval (so that a tick
// seldom overlaps the next one, which would list the same pools again): enough for a pool of a few thousand jobs.
// The pools left are still due, and the most overdue go first, so the next tick resumes where this one stopped.
const POOL_BUDGET_MS = 10_000;
// ListUserPools takes at most 60 a page.
const POOLS_PAGE = 60;

// A type, not an interface, so that it can be logged as a record of fields.
export type FleetSummary = {
  readonly monitor: string;
  /** Pools the tick knew of: the list, or those discovered and selected. */
  readonly pools: number;
  readonly due: number;
  readonly ran: number;
  readonly failed: readonly { readonly userPoolId: string; readonly error: string }[];
  /** Due pools left for the next tick, for lack of time. */
  readonly deferred: number;
};

/** How one due pool's run went: left for the next tick, or run (a failed run is a rejected outcome). */
type PoolOutcome = 'deferred' | 'complete' | 'incomplete';

export interface FleetDependencies {
  readonly clients: Omit<Clients, 'cognito'>;
  /** The Cognito client of a region (the function's own when undefined), one per region for the whole tick. */
  readonly cognitoFor: (region: string | undefined) => CognitoIdentityProviderClient;
  readonly fleet: FleetConfig;
  readonly log: Log;
  readonly deadline?: Deadline;
  /** Whether the schedule invoked it: then only due pools run; otherwise (the deployment's run) every pool. */
  readonly scheduled: boolean;
}

export async function runFleet(deps: FleetDependencies): Promise<FleetSummary> {
  const { fleet, log } = deps;
  const now = new Date();
  // The fleet's own calls are made for the monitor: that is what their errors name.
  const own: RunDependencies = {
    ...deps.clients,
    cognito: deps.cognitoFor(undefined),
    config: poolless(fleet),
    now,
    log,
    deadline: deps.deadline,
  };
  // Discovery learns each pool's name too, which a run's events would otherwise ask DescribeUserPool for.
  const names = new Map<string, string>();
  const pools = fleet.source.kind === 'list' ? fleet.source.userPoolIds : await discoverPools(own, fleet.source, names);
  const dueAt = await readAllNextRunAt(own);
  const cadence = { activeMs: fleet.settings.activeMs, idleMs: fleet.settings.periodMs };
  const due = pools
    .filter((id) => !deps.scheduled || isDue(now, dueAt.get(id), cadence))
    .sort((a, b) => (dueAt.get(a)?.getTime() ?? 0) - (dueAt.get(b)?.getTime() ?? 0));

  // Pools are started until the run's deadline or the next tick is near, whichever comes first.
  const stopAt = Math.min(deps.deadline?.at.getTime() ?? Infinity, now.getTime() + fleet.settings.activeMs) - POOL_BUDGET_MS;
  const outcomes = await mapWithConcurrency(due, POOL_CONCURRENCY, async (userPoolId): Promise<PoolOutcome> => {
    if (Date.now() > stopAt) return 'deferred';
    const config = poolConfig(fleet.settings, userPoolId, true);
    const pool: RunDependencies = {
      ...deps.clients,
      cognito: deps.cognitoFor(config.userPoolRegion),
      config,
      now: new Date(),
      log: withPool(log, userPoolId),
      deadline: deps.deadline,
      userPoolName: names.get(userPoolId),
    };
    try {
      const summary = await runOnce(pool);
      await writeNextRunAt(pool, nextRunAt(pool.now, summary.figures, cadence, summary.stillOwed > 0));
      return summary.complete ? 'complete' : 'incomplete';
    } catch (error) {
      log.error('Pool run failed; the other pools go on', { userPoolId, error });
      // Due again at the next tick, but behind the pools that waited longer: a pool that fails slowly, tick after
      // tick, must not take every tick's time from the others. Best effort: if this write fails too, the pool is
      // simply due at once.
      await writeNextRunAt(pool, new Date(pool.now.getTime() + cadence.activeMs)).catch(() => undefined);
      throw error;
    }
  });
  const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ userPoolId: due[i], error: o.reason as Error }] : []));
  const count = (outcome: PoolOutcome) => outcomes.filter((o) => o.status === 'fulfilled' && o.value === outcome).length;
  const deferred = count('deferred');
  const incomplete = count('incomplete');
  const ran = due.length - deferred;

  // The heartbeat says the fleet works: the tick listed its pools and ran every due one, and not all of them failed.
  // A pool that keeps failing is the PoolRunsFailed alarm's to report, not a silent monitor.
  // (A pool whose run ended without publishing everything, such as events the bus refused, counts as failed here.)
  const working = deferred === 0 && !(ran > 0 && failed.length + incomplete === ran);
  publishFleetMetrics(fleet, now, pools.length, failed, working);
  await reportFailures(own, failed);
  const summary: FleetSummary = {
    monitor: fleet.monitorName,
    pools: pools.length,
    due: due.length,
    ran,
    failed: failed.map(({ userPoolId, error }) => ({ userPoolId, error: `${error.name}: ${error.message}` })),
    deferred,
  };
  log.info('Fleet summary', summary);
  return summary;
}

/** The settings of the fleet's own calls, which are for no one pool. */
function poolless(fleet: FleetConfig): Config {
  return { ...fleet.settings, userPoolId: `monitor ${fleet.monitorName}`, userPoolRegion: '', sparseMetrics: true };
}

function withPool(log: Log, userPoolId: string): Log {
  return {
    info: (message, fields) => log.info(message, { userPoolId, ...fields }),
    warn: (message, fields) => log.warn(message, { userPoolId, ...fields }),
    error: (message, fields) => log.error(message, { userPoolId, ...fields }),
  };
}

/** Every pool of the function's account and region (all pages of ListUserPools) that the patterns select. */
async function discoverPools(
  deps: RunDependencies,
  patterns: { include: readonly string[]; exclude: readonly string[] },
  names: Map<string, string>,
): Promise<string[]> {
  const selected: string[] = [];
  let token: string | undefined;
  let page = 0;
  do {
    page++;
    const answer = await call(deps, `ListUserPools page ${page}`, (options) =>
      deps.cognito.send(new ListUserPoolsCommand({ MaxResults: POOLS_PAGE, NextToken: token }), options),
    );
    for (const pool of answer.UserPools ?? []) {
      if (pool.Id && isSelected(pool.Id, pool.Name ?? '', patterns)) {
        selected.push(pool.Id);
        if (pool.Name) names.set(pool.Id, pool.Name);
      }
    }
    token = answer.NextToken || undefined;
  } while (token !== undefined);
  return selected;
}

/** Whether a pool is selected: an include pattern (or none) matches its ID or name, and no exclude pattern does. */
export function isSelected(id: string, name: string, patterns: { include: readonly string[]; exclude: readonly string[] }): boolean {
  const matches = (pattern: string) => {
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return regex.test(id) || regex.test(name);
  };
  return (patterns.include.length === 0 || patterns.include.some(matches)) && !patterns.exclude.some(matches);
}

/**
 * `PoolRunsFailed` (1) for each pool whose run failed, and, with the monitor's name as dimension, the pools known
 * and the heartbeat (1 when the fleet works, see above).
 */
function publishFleetMetrics(
  fleet: FleetConfig,
  now: Date,
  pools: number,
  failed: readonly { userPoolId: string }[],
  complete: boolean,
): void {
  const metrics = new Metrics({ namespace: fleet.settings.namespace });
  metrics.clearDefaultDimensions();
  for (const { userPoolId } of failed) {
    metrics.addMetric(METRIC_POOL_RUNS_FAILED, MetricUnit.Count, 1);
    publish(metrics, now, { [DIMENSION_USER_POOL_ID]: userPoolId });
  }
  metrics.addMetric(METRIC_POOLS_MONITORED, MetricUnit.Count, pools);
  if (complete) metrics.addMetric(METRIC_HEARTBEAT, MetricUnit.Count, 1);
  publish(metrics, now, { [DIMENSION_MONITOR]: fleet.monitorName });
}


/** An event for each pool whose run failed, to the job events' bus: best effort, the log line and metric are kept. */
async function reportFailures(deps: RunDependencies, failed: readonly { userPoolId: string; error: Error }[]): Promise<void> {
  if (!deps.events || failed.length === 0) return;
  for (let i = 0; i < failed.length; i += PUT_EVENTS_BATCH) {
    const entries = failed.slice(i, i + PUT_EVENTS_BATCH).map(({ userPoolId, error }) =>
      busEntry(deps, EVENT_DETAIL_TYPE_POOL_RUN_FAILED, {
        userPoolId,
        monitor: deps.config.userPoolId.replace(/^monitor /, ''),
        errorName: error.name,
        errorMessage: error.message,
        operation: (error as { operation?: string }).operation,
      }),
    );
    try {
      await call(deps, `PutEvents of ${entries.length} pool failures`, (options) =>
        deps.events!.send(new PutEventsCommand({ Entries: entries }), options),
      );
    } catch (error) {
      deps.log.warn('Could not send the events of failed pool runs', { error });
    }
  }
}
