/**
 * Every count and event exactly once, per key, under DynamoDB faults: the bundled handler, in its own process,
 * against the loopback servers, runs a pool of 20 jobs through a few minutes of changes (jobs created, started,
 * importing users, ending Succeeded, Failed, Stopped or Expired) while a share of its DynamoDB requests fail,
 * are throttled or land with their answer lost, and in one variant while runs are killed (SIGKILL); then clean
 * runs, after the last run's lease, publish whatever is still owed.
 *
 * What is owed comes from the scenario: `JobsCompleted` once per job and status it ended in, each user counter the
 * sum of its growth, one event per job's end. An event of an unfinished status (`Pending`, `InProgress`) is owed
 * once when a run stored that status (its write landed, carrying the event); a run that never saw the status owes
 * none. Each key is compared on its own; losses and duplicates are reported apart. Seeds replay: every fault and
 * kill is decided by a generator named after the request it hits (run, operation, item, attempt), not by arrival
 * order.
 *
 * E2E_VERBOSE=1 prints a line per seed and a summary per variant. E2E_BUNDLE=<path> runs another build of the
 * handler (an earlier revision's, to measure it).
 */
import {
  COMPLETED_STATUSES,
  CompletedStatus,
  METRIC_FAILED_USERS,
  METRIC_FAILED_USERS_OF_ENDED_JOBS,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS_COMPLETED,
  METRIC_SKIPPED_USERS,
} from '../lib/contract';
import { itemOfJob } from '../lambda/state-store';
import { DynamoRequest, announcedEventKeys, describeDynamoRequest, outboxTokenOf, owedOn } from './support/dynamo-requests';
import { datapoints } from './support/emf';
import { FakeJob, makeJob } from './support/fake-cognito';
import { Duplicate, Loss, Reckoning, Tally, addTo, killedRunAllowance, reckon, sumOfTallies } from './support/key-ledger';
import { DynamoFault, Invocation, loopbackForSuite } from './support/loopback';
import { pick, randomFor } from './support/seeded';

const world = loopbackForSuite();
const bundle = process.env.E2E_BUNDLE || undefined;
const verbose = !!process.env.E2E_VERBOSE;

// A run's lease is its function's end, TEST_TIMEOUT_MS (60 s by default) after it starts: each run comes after the
// previous one's, as the next tick after a killed run would.
const RUN_GAP_MS = 120_000;
const JOBS = 20;
const FAULTED_RUNS = 5;
const MAX_CLEAN_RUNS = 3;
const SEEDS = [1, 2, 3, 4, 5];
// Three attempts a call (the default is 8): runs of a few seconds at most rather than of the SDK's backoff of up to
// 20 s, so that a variant's seeds play in well under a minute. Fewer attempts make more writes fail, not fewer.
const ENV = { AWS_MAX_ATTEMPTS: '3' };

interface Variant {
  readonly name: string;
  /** Share of DynamoDB requests that fail, are throttled or lose their answer. */
  readonly rate: number;
  /** Whether runs may be killed at one of their DynamoDB requests. */
  readonly kills: boolean;
  /** Whether the pool's jobs are spread over 16 buckets from the start, rather than kept in one item while they fit. */
  readonly buckets?: boolean;
}

const VARIANTS: Variant[] = [
  { name: '10% of DynamoDB requests faulted', rate: 0.1, kills: false },
  { name: '50% of DynamoDB requests faulted', rate: 0.5, kills: false },
  { name: 'runs killed, 10% of DynamoDB requests faulted', rate: 0.1, kills: true },
  { name: '50% of DynamoDB requests faulted, in 16 buckets', rate: 0.5, kills: false, buckets: true },
  { name: 'runs killed, 10% of DynamoDB requests faulted, in 16 buckets', rate: 0.1, kills: true, buckets: true },
];

// ---------------------------------------------------------------------------------------------------------------
// The scenario: each job's listing before each faulted run, from the seed alone.

interface ScriptedJob {
  readonly jobId: string;
  /** The job as listed before each faulted run; undefined before it was created. Clean runs list the last. */
  readonly listed: (FakeJob | undefined)[];
  readonly final: FakeJob & { Status: CompletedStatus };
}

function scenario(seed: number, base: number): ScriptedJob[] {
  const last = FAULTED_RUNS - 1;
  // A change happens half a minute before the run that may see it.
  const at = (run: number) => new Date(base + run * RUN_GAP_MS - 30_000);
  return Array.from({ length: JOBS }, (_, n) => {
    const random = randomFor('scenario', seed, n);
    const created = pick(random, [[0, 3], [1, 1], [2, 1]] as const);
    const final = pick(random, [['Succeeded', 8], ['Failed', 5], ['Stopped', 4], ['Expired', 3]] as const);
    const end = created + 1 + Math.floor(random() * (last - created));
    const start = final === 'Expired' ? end : created + Math.floor(random() * (end - created));
    const users = { ImportedUsers: 0, SkippedUsers: 0, FailedUsers: 0 };
    const grow = () => {
      users.ImportedUsers += Math.floor(random() * 300);
      users.SkippedUsers += Math.floor(random() * 10);
      users.FailedUsers += Math.floor(random() * 6);
    };
    const listed: (FakeJob | undefined)[] = [];
    for (let run = 0; run <= last; run++) {
      let status: string;
      if (run < created) {
        listed.push(undefined);
        continue;
      } else if (run < start) {
        status = run === start - 1 && random() < 0.5 ? 'Pending' : 'Created';
      } else if (run < end) {
        status = final === 'Stopped' && run === end - 1 && run > start ? 'Stopping' : 'InProgress';
        if (status === 'InProgress') grow();
      } else {
        status = final;
        if (run === end && final !== 'Expired') grow();
      }
      listed.push(
        makeJob(n, status, {
          CreationDate: at(created),
          StartDate: run >= start && final !== 'Expired' ? at(start) : undefined,
          CompletionDate: run >= end ? at(end) : undefined,
          ...users,
        }),
      );
    }
    return { jobId: listed[last]!.JobId, listed, final: listed[last] as ScriptedJob['final'] };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Keys: the series of each counted metric, and each event.

const metricKey = (pool: string, metric: string, status?: string) =>
  status ? `${metric}{UserPoolId=${pool},Status=${status}}` : `${metric}{UserPoolId=${pool}}`;
const eventKey = (key: string) => `event ${key}`;
const USER_COUNTERS = [
  [METRIC_IMPORTED_USERS, 'ImportedUsers'],
  [METRIC_SKIPPED_USERS, 'SkippedUsers'],
  [METRIC_FAILED_USERS, 'FailedUsers'],
] as const;
const COUNTED = new Set<string>([METRIC_JOBS_COMPLETED, METRIC_FAILED_USERS_OF_ENDED_JOBS, ...USER_COUNTERS.map(([metric]) => metric)]);

/** What the scenario owes, per key; events of unfinished statuses are added as runs store them. */
function owedByScenario(pool: string, jobs: readonly ScriptedJob[]): Tally {
  const owed: Tally = new Map();
  for (const status of COMPLETED_STATUSES) owed.set(metricKey(pool, METRIC_JOBS_COMPLETED, status), 0);
  for (const [metric] of USER_COUNTERS) owed.set(metricKey(pool, metric), 0);
  owed.set(metricKey(pool, METRIC_FAILED_USERS_OF_ENDED_JOBS), 0);
  for (const { final } of jobs) {
    addTo(owed, metricKey(pool, METRIC_JOBS_COMPLETED, final.Status), 1);
    for (const [metric, field] of USER_COUNTERS) addTo(owed, metricKey(pool, metric), final[field] ?? 0);
    if (final.Status === 'Succeeded' || final.Status === 'Stopped') {
      addTo(owed, metricKey(pool, METRIC_FAILED_USERS_OF_ENDED_JOBS), final.FailedUsers ?? 0);
    }
    addTo(owed, eventKey(`${pool}/${final.JobId}/${final.Status}`), 1);
  }
  return owed;
}

/** The counted metrics a run printed to stdout (CloudWatch's view of its EMF), per key. */
function printed(run: Invocation): Tally {
  const tally: Tally = new Map();
  for (const point of datapoints(run.emf)) {
    if (COUNTED.has(point.key.split('{')[0])) addTo(tally, point.key, point.value);
  }
  return tally;
}

/**
 * An entry still in the outbox, one per job: an entry of a bucket's `Owed_<version>` attribute (the entries of one
 * write, under its token), as lambda/state-store.ts writes it.
 */
interface OwedEntry {
  readonly jobId: string;
  readonly token: string;
  readonly keys: Tally;
}

async function outboxOf(pool: string): Promise<OwedEntry[]> {
  const entries: OwedEntry[] = [];
  for (const item of (await world.state()).values()) {
    if (item.UserPoolId !== pool) continue;
    for (const { jobId, token, counts, event } of owedOn(item)) {
      const keys: Tally = new Map();
      if (counts) {
        if (counts.Completed) addTo(keys, metricKey(pool, METRIC_JOBS_COMPLETED, counts.Completed), 1);
        for (const [metric, field] of USER_COUNTERS) addTo(keys, metricKey(pool, metric), counts[field] ?? 0);
        addTo(keys, metricKey(pool, METRIC_FAILED_USERS_OF_ENDED_JOBS), counts.FailedUsersAtEnd ?? 0);
      }
      if (event) addTo(keys, eventKey(event.eventKey), 1);
      entries.push({ jobId, token, keys });
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// Faults and kills, each decided by a generator named after the request it hits.

interface FaultTally {
  fail: number;
  lose: number;
  throttle: number;
  kills: number;
}

const WRITES = new Set(['store', 'takeover', 'clear', 'update', 'put']);

/** The fate of each DynamoDB request of one run: a fault at `variant.rate`, and the kill at `killAt` if any. */
function faults(variant: Variant, seed: number, run: number, tally: FaultTally, killAt?: string) {
  const attempts = new Map<string, number>();
  let killed = false;
  return (request: DynamoRequest): DynamoFault => {
    const attempt = attempts.get(request.id) ?? 0;
    attempts.set(request.id, attempt + 1);
    const random = randomFor('fault', variant.name, seed, run, request.id, attempt);
    if (request.id === killAt && !killed) {
      killed = true;
      tally.kills++;
      world.killRunOf(request.userPoolId);
      // The request under way when the run died lands or not.
      return random() < 0.5 ? undefined : 'fail';
    }
    if (random() >= variant.rate) return undefined;
    const fault = WRITES.has(request.step)
      ? pick(random, [['fail', 2], ['lose', 2], ['throttle', 1]] as const)
      : pick(random, [['fail', 2], ['throttle', 1]] as const);
    tally[fault]++;
    return fault;
  };
}

/**
 * The request a run is killed at, if it is to be killed: most often a clear or a store of the bucket of a job that
 * changed (a job's changes, and what they owe, are stored and cleared with the other changes of its bucket).
 */
function killTarget(pool: string, seed: number, run: number, jobs: readonly ScriptedJob[], head: Record<string, unknown> | undefined): string | undefined {
  const random = randomFor('kill', seed, run);
  if (random() >= 0.6) return undefined;
  const changed = jobs.filter((job) => job.listed[run] !== undefined && JSON.stringify(job.listed[run]) !== JSON.stringify(job.listed[run - 1]));
  const anyOf = (among: readonly ScriptedJob[]) => {
    const from = among.length > 0 ? among : jobs;
    return itemOfJob(head, from[Math.floor(random() * from.length)].jobId);
  };
  const where = pick(random, [['clear', 5], ['store', 3], ['takeover', 1], ['query', 1], ['due', 1]] as const);
  switch (where) {
    case 'clear':
      return `UpdateItem:clear:${anyOf(changed)}`;
    case 'store':
      return `UpdateItem:store:${anyOf(changed)}`;
    case 'takeover':
      return `UpdateItem:takeover:${anyOf(jobs)}`;
    case 'query':
      return `Query:query:${pool}`;
    case 'due':
      return `PutItem:put:${pool}`;
  }
}

/** One seed's part in the proxy: the fate of its pool's requests, and what dynalite answered them. */
interface Player {
  fault?: (request: DynamoRequest) => DynamoFault;
  answered(request: DynamoRequest, body: Record<string, any>, statusCode: number): void;
}

const players = new Map<string, Player>();

/**
 * The seeds of a variant play at once, each with its own pool, and the proxy's hooks go to the pool each request is
 * for: most of a run's time is the SDK's backoff, so five at once take little longer than one.
 */
function routeDynamoToPlayers(): void {
  world.dynamoFault = (operation, body) => {
    const request = describeDynamoRequest(operation, body);
    return players.get(request.userPoolId)?.fault?.(request);
  };
  world.onDynamoAnswer = (operation, body, statusCode) => {
    const request = describeDynamoRequest(operation, body);
    players.get(request.userPoolId)?.answered(request, body, statusCode);
  };
}

// ---------------------------------------------------------------------------------------------------------------
// One seed of one variant, played and reckoned.

interface Outcome extends Reckoning {
  readonly runs: number;
  readonly failedRuns: number;
  readonly faults: FaultTally;
  /** Entries still owed after the clean runs: debts never paid. */
  readonly owedAtEnd: string[];
}

async function play(variant: Variant, variantIndex: number, seed: number): Promise<Outcome> {
  const pool = `eu-west-1_Faults${variantIndex}x${seed}`;
  const jobs = scenario(seed, Date.now());
  const owed = owedByScenario(pool, jobs);
  // Which run's write put each outbox token in the table; each unfinished status a landed write announced; and
  // how many of the pool's requests dynalite has yet to answer.
  const tokenRun = new Map<string, number>();
  let current = 0;
  let inFlight = 0;
  const player: Player = {
    answered: (request, body, statusCode) => {
      inFlight--;
      if (statusCode !== 200) return;
      const token = outboxTokenOf(request, body);
      if (token) tokenRun.set(token, current);
      for (const announced of announcedEventKeys(request, body)) {
        if (!owed.has(eventKey(announced))) owed.set(eventKey(announced), 1);
      }
    },
  };
  players.set(pool, player);

  const tally: FaultTally = { fail: 0, lose: 0, throttle: 0, kills: 0 };
  const published: Tally[] = [];
  const allowances: Tally[] = [];
  const runs: Invocation[] = [];
  let outbox: OwedEntry[] = [];
  for (let run = 0; run < FAULTED_RUNS + MAX_CLEAN_RUNS; run++) {
    const clean = run >= FAULTED_RUNS;
    if (clean && outbox.length === 0 && runs[run - 1].exitCode === 0) break;
    current = run;
    world.cognito.pools.set(pool, jobs.flatMap((job) => job.listed[Math.min(run, FAULTED_RUNS - 1)] ?? []));
    const kills = tally.kills;
    const head = variant.kills ? (await world.state()).get(`${pool}|#jobs#00`) : undefined;
    const fate = clean ? () => undefined : faults(variant, seed, run, tally, variant.kills ? killTarget(pool, seed, run, jobs, head) : undefined);
    player.fault = (request) => {
      const fault = fate(request);
      if (fault === undefined || fault === 'lose') inFlight++;
      return fault;
    };
    const sentBefore = world.eventBridge.events.length;
    const env = variant.buckets ? { ...ENV, STATE_SINGLE_ITEM_BYTES: '0' } : ENV;
    const invocation = await world.invoke(pool, env, { clockOffsetMs: run * RUN_GAP_MS, bundle });
    // A killed run's requests still on their way land now, before the next run: minutes later in AWS.
    for (let waited = 0; inFlight > 0; waited += 10) {
      if (waited > 10_000) throw new Error(`${inFlight} requests of ${pool} still unanswered by dynalite after 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    runs.push(invocation);
    const got = printed(invocation);
    for (const event of world.eventBridge.events.slice(sentBefore)) {
      if (event.detail.userPoolId === pool) addTo(got, eventKey(event.detail.eventKey), 1);
    }
    published.push(got);
    outbox = await outboxOf(pool);
    if (tally.kills > kills) {
      // What the killed run published and left in the outbox, held by it, is published again by a later run.
      const leftOwed = sumOfTallies(outbox.filter((entry) => tokenRun.get(entry.token) === run).map((entry) => entry.keys));
      allowances.push(killedRunAllowance(got, leftOwed));
    }
  }
  players.delete(pool);
  const reckoning = reckon(owed, sumOfTallies(published), sumOfTallies(allowances));
  return {
    ...reckoning,
    runs: runs.length,
    failedRuns: runs.filter((run) => run.exitCode !== 0).length,
    faults: tally,
    owedAtEnd: outbox.map((entry) => `${entry.jobId}: ${[...entry.keys.keys()].join(', ')}`),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Reporting: a line per seed and a summary per variant, with E2E_VERBOSE=1.

const describeLosses = (losses: readonly Loss[]) => losses.map((l) => `${l.key} -${l.expected - l.published}`).join('; ');
const describeDuplicates = (duplicates: readonly Duplicate[]) =>
  duplicates.map((d) => `${d.key} +${d.published - d.expected}${d.explained ? ` (${d.explained} explained)` : ''}`).join('; ');

/** Jobs, users and events lost or doubled: the figures of a set of seeds. */
function magnitudes(items: readonly (Loss | Duplicate)[], amount: (item: Loss | Duplicate) => number) {
  const of = (match: (key: string) => boolean) => items.filter((item) => match(item.key)).reduce((sum, item) => sum + amount(item), 0);
  return {
    jobs: of((key) => key.startsWith(`${METRIC_JOBS_COMPLETED}{`)),
    users: of((key) => !key.startsWith(`${METRIC_JOBS_COMPLETED}{`) && !key.startsWith('event ')),
    events: of((key) => key.startsWith('event ')),
  };
}

function seedLine(variant: Variant, seed: number, o: Outcome): string {
  const faulted = o.faults.fail + o.faults.lose + o.faults.throttle;
  const unexplained = o.duplicates.reduce((sum, d) => sum + (d.unexplained > 0 ? 1 : 0), 0);
  return (
    `${variant.name}, seed ${seed}: ${o.runs} runs (${o.failedRuns} failed), ${faulted} faults ` +
    `(${o.faults.fail} failed, ${o.faults.lose} answers lost, ${o.faults.throttle} throttled), ${o.faults.kills} kills; ` +
    `losses ${o.losses.length} keys [${describeLosses(o.losses)}]; duplicates ${o.duplicates.length} keys, ` +
    `${o.duplicates.length - unexplained} explained, ${unexplained} unexplained [${describeDuplicates(o.duplicates)}]` +
    (o.owedAtEnd.length ? `; still owed: ${o.owedAtEnd.join(' | ')}` : '')
  );
}

function summaryLine(variant: Variant, outcomes: readonly Outcome[]): string {
  const losses = outcomes.flatMap((o) => o.losses);
  const duplicates = outcomes.flatMap((o) => o.duplicates);
  const lost = magnitudes(losses, (l) => l.expected - l.published);
  const doubled = magnitudes(duplicates, (d) => d.published - d.expected);
  const unexplained = magnitudes(duplicates, (d) => (d as Duplicate).unexplained);
  const seedsWith = (match: (o: Outcome) => boolean) => outcomes.filter(match).length;
  return (
    `${variant.name}, ${outcomes.length} seeds: ${outcomes.reduce((s, o) => s + o.runs, 0)} runs, ` +
    `${outcomes.reduce((s, o) => s + o.faults.fail + o.faults.lose + o.faults.throttle, 0)} faults, ` +
    `${outcomes.reduce((s, o) => s + o.faults.kills, 0)} kills; ` +
    `lost: ${lost.jobs} jobs, ${lost.users} users, ${lost.events} events (${seedsWith((o) => o.losses.length > 0)} seeds); ` +
    `doubled: ${doubled.jobs} jobs, ${doubled.users} users, ${doubled.events} events (${seedsWith((o) => o.duplicates.length > 0)} seeds), ` +
    `of which unexplained by a kill: ${unexplained.jobs} jobs, ${unexplained.users} users, ${unexplained.events} events ` +
    `(${seedsWith((o) => o.duplicates.some((d) => d.unexplained > 0))} seeds)`
  );
}

// ---------------------------------------------------------------------------------------------------------------

describe.each(VARIANTS.map((variant, i) => [variant.name, variant, i] as const))('with %s', (_name, variant, variantIndex) => {
  const outcomes = new Map<number, Outcome>();
  beforeAll(async () => {
    routeDynamoToPlayers();
    const played = await Promise.all(SEEDS.map((seed) => play(variant, variantIndex, seed)));
    SEEDS.forEach((seed, i) => outcomes.set(seed, played[i]));
    if (verbose) {
      for (const seed of SEEDS) process.stdout.write(`${seedLine(variant, seed, outcomes.get(seed)!)}\n`);
      process.stdout.write(`SUMMARY ${summaryLine(variant, played)}\n`);
    }
  }, 120_000);

  const name = variant.kills
    ? 'loses no count, and publishes twice only what a killed run published and left in the outbox (seed %i)'
    : 'loses no count and publishes none twice, per key (seed %i)';
  it.each(SEEDS)(name, (seed) => {
    const outcome = outcomes.get(seed)!;
    // One assertion, so that a failure shows every lost key and every doubled key at once.
    expect({
      losses: outcome.losses,
      duplicates: variant.kills ? outcome.duplicates.filter((d) => d.unexplained > 0) : outcome.duplicates,
      owedAtEnd: outcome.owedAtEnd,
    }).toEqual({ losses: [], duplicates: [], owedAtEnd: [] });
    if (variant.kills) expect(outcome.faults.kills).toBeGreaterThan(0);
  });
});

describe('the per-key reckoning', () => {
  it('reports a lost Stopped and a doubled Failed apart, with their keys, though their totals net to zero', () => {
    const expected = new Map([
      ['JobsCompleted{Status=Failed}', 2],
      ['JobsCompleted{Status=Stopped}', 1],
      ['event p/import-1/Failed', 1],
    ]);
    const published = new Map([
      ['JobsCompleted{Status=Failed}', 3],
      ['JobsCompleted{Status=Stopped}', 0],
      ['event p/import-1/Failed', 1],
      ['event p/import-2/InProgress', 1],
    ]);
    expect(reckon(expected, published)).toEqual({
      losses: [{ key: 'JobsCompleted{Status=Stopped}', expected: 1, published: 0 }],
      duplicates: [
        { key: 'JobsCompleted{Status=Failed}', expected: 2, published: 3, explained: 0, unexplained: 1 },
        { key: 'event p/import-2/InProgress', expected: 0, published: 1, explained: 0, unexplained: 1 },
      ],
    });
  });

  it('explains a duplicate only up to what a killed run published and left in the outbox', () => {
    const allowance = killedRunAllowance(
      new Map([
        ['ImportedUsers', 500],
        ['JobsCompleted{Status=Failed}', 1],
      ]),
      new Map([
        ['ImportedUsers', 120],
        ['SkippedUsers', 4],
      ]),
    );
    expect(allowance).toEqual(new Map([['ImportedUsers', 120]]));
    expect(reckon(new Map([['ImportedUsers', 500]]), new Map([['ImportedUsers', 700]]), allowance).duplicates).toEqual([
      { key: 'ImportedUsers', expected: 500, published: 700, explained: 120, unexplained: 80 },
    ]);
  });
});
