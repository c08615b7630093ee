/**
 * A tick of a fleet: every pool of a list, or of the account and region (discovered each tick), each run on its own
 * as a single pool is, most overdue first, a few at a time; one pool's failure is reported and stops no other.
 */
import { CognitoIdentityProviderClient, paginateListUserPools } from '@aws-sdk/client-cognito-identity-provider';
import { DIMENSION_MONITOR, GONE_POOL_REPORTED_RUNS, userPoolRegion } from '../lib/contract';
import { isDue } from './cadence';
import { Calls, Deadline, Log, MonitorSubject } from './calls';
import { Clients } from './clients';
import { mapWithConcurrency } from './concurrency';
import { FleetConfig, poolConfig } from './config';
import { sendPoolRunFailures } from './events';
import { publishHeartbeat, publishPoolRunsFailed } from './metrics';
import { RunDependencies, payDebts, runPool, stateStore } from './run';
import { MonitorStateStore, PoolCadence } from './state-store';

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
  /** Pools that no longer exist, reported already: listed every schedule, not counted as failed. */
  readonly gone: number;
};

/**
 * How one due pool's run went: left for the next tick, run, failed (its how-manieth failed run in a row, and whether
 * that could be stored), or gone (missing for longer than the failure was reported).
 */
type PoolOutcome =
  | { readonly kind: 'deferred' | 'ran' | 'gone' }
  | { readonly kind: 'failed'; readonly error: Error; readonly failedRuns: number; readonly stored: boolean };

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
  const pools = fleet.source.kind === 'list' ? fleet.source.userPoolIds : await discoverPools(deps.cognitoFor(undefined), calls, fleet.source, names, log);
  const cadences = await new MonitorStateStore({ client: deps.clients.dynamodb, tableName: settings.tableName }, calls).readAllCadences();
  const dueAt = (id: string) => cadences.get(id)?.nextRunAt;
  const due = pools
    .filter((id) => !deps.scheduled || isDue(now, dueAt(id), settings))
    .sort((a, b) => (dueAt(a)?.getTime() ?? 0) - (dueAt(b)?.getTime() ?? 0));

  // Pools that left the fleet (removed from the list, or no longer discovered) are no longer listed, but what their
  // runs left owed is still theirs to publish.
  const listed = new Set(pools);
  await settleDeparted([...cadences.keys()].filter((id) => !listed.has(id)), deps, names);

  // Pools are started until the run's deadline or the next tick is near, whichever comes first.
  const stopAt = Math.min(deps.deadline?.at.getTime() ?? Infinity, now.getTime() + settings.activeScheduleMs) - POOL_BUDGET_MS;
  const outcomes = await mapWithConcurrency(due, POOL_CONCURRENCY, async (userPoolId): Promise<PoolOutcome> => {
    if (Date.now() > stopAt) return { kind: 'deferred' };
    const pool = poolDependencies(deps, userPoolId, names);
    try {
      await runPool(pool);
      return { kind: 'ran' };
    } catch (error) {
      return afterFailedRun(pool, error as Error, cadences.get(userPoolId));
    }
  });
  // afterFailedRun does not throw: a rejection would be a bug, reported as that pool's failure.
  const settled = outcomes.map((o): PoolOutcome => (o.status === 'fulfilled' ? o.value : { kind: 'failed', error: o.reason, failedRuns: 1, stored: false }));
  const failed = settled.flatMap((o, i) => (o.kind === 'failed' ? [{ ...o, userPoolId: due[i] }] : []));
  const count = (kind: PoolOutcome['kind']) => settled.filter((o) => o.kind === kind).length;
  const [deferred, gone] = [count('deferred'), count('gone')];
  const ran = due.length - deferred;

  // The fleet works when the tick got this far (it listed its pools and read when each is due), could store how its
  // failed pools went (else their PoolRunsFailed cannot grow: a table that refuses writes is the fleet's to report),
  // and keeps up: no pool it left for later is overdue by more than the schedule and a tick. A pool whose runs fail,
  // even every pool, is the PoolRunsFailed alarm's, by name. The deployment's run, which runs every pool, may fall
  // behind: the next ticks catch up, most overdue first.
  const behindSince = now.getTime() - settings.scheduleMs - settings.activeScheduleMs;
  const behind = deps.scheduled && settled.some((o, i) => o.kind === 'deferred' && (dueAt(due[i])?.getTime() ?? Infinity) < behindSince);
  const working = failed.every((f) => f.stored) && !behind;
  publishPoolRunsFailed(settings.namespace, now, failed);
  publishHeartbeat(settings.namespace, { [DIMENSION_MONITOR]: fleet.monitorName }, now, working, pools.length);
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

/**
 * Pools that left the fleet: what they owe is published (without a listing), and then, owing nothing, they are
 * forgotten (their due time deleted; their jobs' items stay, so a pool that comes back is no first run). A few a tick,
 * best effort: one that cannot be settled now is tried again the next tick.
 */
async function settleDeparted(departed: readonly string[], deps: FleetDependencies, names: Map<string, string>): Promise<void> {
  await mapWithConcurrency(departed.slice(0, DEPARTED_PER_TICK), POOL_CONCURRENCY, async (userPoolId) => {
    const pool = poolDependencies(deps, userPoolId, names);
    try {
      const stillOwed = await payDebts(pool);
      if (stillOwed === 0) await stateStore(pool).forgetCadence();
      pool.log.info('Pool left the fleet', { stillOwed });
    } catch (error) {
      pool.log.warn('Pool left the fleet, and what it owes could not be published yet; the next tick tries again', { error });
    }
  });
}

/** What one pool's run, or the settling of its debts, works with: the fleet's clients and deadline, its own config. */
function poolDependencies(deps: FleetDependencies, userPoolId: string, names: Map<string, string>): RunDependencies {
  const config = poolConfig(deps.fleet.settings, userPoolId);
  return {
    ...deps.clients,
    cognito: deps.cognitoFor(config.userPoolRegion),
    config,
    now: new Date(),
    log: withPool(deps.log, userPoolId),
    deadline: deps.deadline,
    userPoolName: names.get(userPoolId),
  };
}

// Departed pools settled a tick at most: a fleet that loses many pools at once settles them over a few ticks.
const DEPARTED_PER_TICK = 20;

/**
 * A fleet's failed run of a pool, followed up: logged as one pool's of many, counted (its how-manieth failure in a row,
 * from the count the tick read, which PoolRunsFailed publishes), and the pool due again at the next tick, but behind
 * the pools that waited longer, so that a pool that fails slowly, tick after tick, does not take every tick's time from
 * the others. A pool that no longer exists, once reported, is listed every `schedule` instead, quietly. If that write
 * fails too, the pool is simply due at once, and the fleet's heartbeat says so.
 */
async function afterFailedRun(pool: RunDependencies, error: Error, cadence: PoolCadence | undefined): Promise<PoolOutcome> {
  const failedRuns = (cadence?.failedRuns ?? 0) + 1;
  const gone = error.name === 'ResourceNotFoundException' && failedRuns > GONE_POOL_REPORTED_RUNS;
  if (gone) pool.log.warn('User pool not found, run after run; listed again after the schedule: leave it out of the fleet', { failedRuns, error });
  else pool.log.error('Pool run failed; the other pools go on', { failedRuns, error });
  const wait = gone ? pool.config.scheduleMs : pool.config.activeScheduleMs;
  const stored = await stateStore(pool).writeNextRunAt(new Date(pool.now.getTime() + wait), pool.now, failedRuns).then(() => true, (writeError) => {
    pool.log.error('Could not store the failed run; the pool is due at once', { error: writeError });
    return false;
  });
  return gone ? { kind: 'gone' } : { kind: 'failed', error, failedRuns, stored };
}

function withPool(log: Log, userPoolId: string): Log {
  return {
    info: (message, fields) => log.info(message, { userPoolId, ...fields }),
    warn: (message, fields) => log.warn(message, { userPoolId, ...fields }),
    error: (message, fields) => log.error(message, { userPoolId, ...fields }),
  };
}

/** Every pool of the function's account and region (all pages of ListUserPools) that the patterns select. */
export async function discoverPools(
  cognito: CognitoIdentityProviderClient,
  calls: Calls,
  patterns: { include: readonly string[]; exclude: readonly string[] },
  names: Map<string, string>,
  log: Log,
): Promise<string[]> {
  const selected: string[] = [];
  // IDs that are not user pool IDs: a pool's ID becomes a dimension, an event field and a state table key, so one
  // Cognito should never give is left out, and said once a tick, escaped (it may hold anything, a line break too).
  const invalid: string[] = [];
  const pages = calls.pages('ListUserPools', (options) => paginateListUserPools({ client: cognito }, { MaxResults: POOLS_PAGE }, options));
  for await (const answer of pages) {
    for (const pool of answer.UserPools ?? []) {
      if (!pool.Id || !isSelected(pool.Id, pool.Name ?? '', patterns)) continue;
      if (userPoolRegion(pool.Id) === undefined) {
        invalid.push(pool.Id);
        continue;
      }
      selected.push(pool.Id);
      if (pool.Name) names.set(pool.Id, pool.Name);
    }
  }
  if (invalid.length > 0) {
    log.warn(`Left out ${invalid.length} discovered pool${invalid.length === 1 ? '' : 's'} whose IDs are not user pool IDs (such as eu-west-1_AbC123): not watched`, {
      userPoolIds: JSON.stringify(invalid),
    });
  }
  return selected;
}

/** Whether a pool is selected: an include pattern (or none) matches its ID or name, and no exclude pattern does. */
export function isSelected(id: string, name: string, patterns: { include: readonly string[]; exclude: readonly string[] }): boolean {
  // `*` matches any run of characters, the rest itself. Not a RegExp: `*a*a*a*...*b` backtracks exponentially in the
  // name's length, and anyone who may name a pool could then time out every tick. The parts between the stars are
  // found left to right, each at its earliest place after the one before (a later place never matches more): the
  // first starts the text, the last ends it. Each part is searched for once, so a match takes linear time in
  // practice, and at worst the name's length times the pattern's, never more.
  const glob = (pattern: string, text: string): boolean => {
    const parts = pattern.split('*');
    if (parts.length === 1) return pattern === text;
    const first = parts[0];
    const last = parts[parts.length - 1];
    if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
    const end = text.length - last.length;
    let at = first.length;
    for (const part of parts.slice(1, -1)) {
      const found = text.indexOf(part, at);
      if (found === -1 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
  const matches = (pattern: string) => glob(pattern, id) || glob(pattern, name);
  return (patterns.include.length === 0 || patterns.include.some(matches)) && !patterns.exclude.some(matches);
}
