/**
 * A tick of a fleet: every pool of a list, or of the account and region (discovered each tick), each run on its own
 * as a single pool is, most overdue first, a few at a time; one pool's failure is reported and stops no other.
 */
import { CognitoIdentityProviderClient, paginateListUserPools } from '@aws-sdk/client-cognito-identity-provider';
import { isDue } from './cadence';
import { Calls, Deadline, Log, MonitorSubject } from './calls';
import { Clients } from './clients';
import { mapWithConcurrency } from './concurrency';
import { FleetConfig, poolConfig } from './config';
import { FailedPool, sendPoolRunFailures } from './events';
import { publishFleetMetrics } from './metrics';
import { PoolGone, runPool } from './run';
import { MonitorStateStore } from './state-store';

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
  /** Pools found missing for a while, checked hourly and not counted as failed. */
  readonly gone: number;
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
  const { settings } = fleet;
  const now = new Date();
  // The fleet's own calls are made for the monitor: that is what their errors name.
  const calls = new Calls<MonitorSubject>({ monitor: fleet.monitorName }, deps.deadline);
  // Discovery learns each pool's name too, which a run's events would otherwise ask DescribeUserPool for.
  const names = new Map<string, string>();
  const pools = fleet.source.kind === 'list' ? fleet.source.userPoolIds : await discoverPools(deps.cognitoFor(undefined), calls, fleet.source, names);
  const dueAt = await new MonitorStateStore({ client: deps.clients.dynamodb, tableName: settings.tableName }, calls).readAllNextRunAt();
  const due = pools
    .filter((id) => !deps.scheduled || isDue(now, dueAt.get(id), settings))
    .sort((a, b) => (dueAt.get(a)?.getTime() ?? 0) - (dueAt.get(b)?.getTime() ?? 0));

  // Pools are started until the run's deadline or the next tick is near, whichever comes first.
  const stopAt = Math.min(deps.deadline?.at.getTime() ?? Infinity, now.getTime() + settings.activeScheduleMs) - POOL_BUDGET_MS;
  const outcomes = await mapWithConcurrency(due, POOL_CONCURRENCY, async (userPoolId): Promise<PoolOutcome> => {
    if (Date.now() > stopAt) return 'deferred';
    const config = poolConfig(settings, userPoolId, true);
    const pool = {
      ...deps.clients,
      cognito: deps.cognitoFor(config.userPoolRegion),
      config,
      now: new Date(),
      log: withPool(log, userPoolId),
      deadline: deps.deadline,
      userPoolName: names.get(userPoolId),
    };
    const summary = await runPool(pool, 'due-next-tick');
    return summary.complete ? 'complete' : 'incomplete';
  });
  // A pool missing for a while was reported already: it is not a failure of this tick (see runPool).
  const failed: FailedPool[] = outcomes.flatMap((o, i) =>
    o.status === 'rejected' && !(o.reason instanceof PoolGone) ? [{ userPoolId: due[i], error: o.reason as Error }] : []);
  const gone = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof PoolGone).length;
  const count = (outcome: PoolOutcome) => outcomes.filter((o) => o.status === 'fulfilled' && o.value === outcome).length;
  const deferred = count('deferred');
  const incomplete = count('incomplete');
  const ran = due.length - deferred;

  // The heartbeat says the fleet works: the tick listed its pools, and ran at least one due pool to the end, or none
  // failed. A tick that leaves due pools for the next one works: the most overdue go first, so every pool is reached
  // (after a deployment, a large fleet catches up over a few ticks, and a deployment's run that had time for none
  // must not send the monitor's first heartbeat as a 0). A pool that keeps failing while others run is the
  // PoolRunsFailed alarm's to report, not a silent monitor. (A pool whose run ended without publishing everything,
  // such as events the bus refused, counts as failed here.)
  const working = ran - failed.length - incomplete > 0 || failed.length + incomplete === 0;
  publishFleetMetrics(settings.namespace, fleet.monitorName, now, pools.length, failed, working);
  // An event for each failed pool, to the job events' bus.
  if (deps.clients.events && failed.length > 0) {
    await sendPoolRunFailures({ client: deps.clients.events, name: settings.eventBusName! }, calls, log, failed);
  }
  const summary: FleetSummary = {
    monitor: fleet.monitorName,
    pools: pools.length,
    due: due.length,
    ran,
    failed: failed.map(({ userPoolId, error }) => ({ userPoolId, error: `${error.name}: ${error.message}` })),
    deferred,
    gone,
  };
  log.info('Fleet summary', summary);
  return summary;
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
  cognito: CognitoIdentityProviderClient,
  calls: Calls,
  patterns: { include: readonly string[]; exclude: readonly string[] },
  names: Map<string, string>,
): Promise<string[]> {
  const selected: string[] = [];
  const pages = calls.pages('ListUserPools', (options) => paginateListUserPools({ client: cognito }, { MaxResults: POOLS_PAGE }, options));
  for await (const answer of pages) {
    for (const pool of answer.UserPools ?? []) {
      if (pool.Id && isSelected(pool.Id, pool.Name ?? '', patterns)) {
        selected.push(pool.Id);
        if (pool.Name) names.set(pool.Id, pool.Name);
      }
    }
  }
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
