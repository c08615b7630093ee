/**
 * `npm run bench`: the handler bundle's size, its load time against the bare Cognito client's, and the
 * CPU time and API calls of one run for pools of 60, 1,000 and 10,000 jobs, against loopback servers, with the
 * window in which a killed run would publish twice. With BENCH_BASELINE=<git revision>, also the steady-state run
 * of that revision's handler beside today's, interleaved in the same bench run, and the cost of a pool a month
 * (scripts/bench-cost.ts) for both. Then "Against a naive monitor": the library beside scripts/naive-monitor.ts for
 * first, steady and 10%-changed runs at 1,000 and 10,000 jobs and a 1,000-pool fleet's first run: wall time and its
 * ratio, requests, peak memory, cost inputs.
 *   npm run bench -- --naive                runs only that section (about 10 minutes)
 *   npm run bench -- --cost                 runs only the cost of a pool a month (with BENCH_BASELINE, beside it)
 *   BENCH_LIBRARY=<git revision>            runs that revision's handler there rather than assets/handler/index.js
 *   BENCH_SAMPLES=<n>                       timed samples there (default 5 at 1,000 jobs, 3 at 10,000, 1 of the fleet)
 * Prints figures; asserts nothing.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import * as os from 'os';
import type { AddressInfo } from 'net';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { build } from 'esbuild';
import { ImportJobMonitor } from '../lib';
import { JOB_STATUSES } from '../lib/contract';
import { PAGE_SIZE } from '../lambda/listing';
import { datapoints } from '../test/support/emf';
import { FakeJob, makeJob } from '../test/support/fake-cognito';
import { BUNDLE, Invocation, Loopback, createStateTable } from '../test/support/loopback';
// @ts-ignore: a plain ES module shared with scripts/build.mjs
import { HANDLER_BUNDLE } from './handler-bundle.mjs';
import { traceJobEnd } from '../test/support/cadence';
import { seededRandom } from '../test/support/seeded';
import { PRICE, costPerPool } from './bench-cost';

const LOAD_SAMPLES = 15;
const COGNITO_PAGE = 50;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Milliseconds to load a module in a fresh Node.js process, median of LOAD_SAMPLES. */
function loadTime(code: string): number {
  const probe = `const t = process.hrtime.bigint(); ${code}; console.log(Number(process.hrtime.bigint() - t) / 1e6);`;
  const samples = Array.from({ length: LOAD_SAMPLES }, () =>
    Number(execFileSync(process.execPath, ['-e', probe], { cwd: path.join(__dirname, '..'), encoding: 'utf8', env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', AWS_REGION: 'eu-west-1' } })),
  );
  return median(samples);
}

const ROOT = path.join(__dirname, '..');

/**
 * Bundles the handler of another git revision, as `npm run build` does, under .bench/ (ignored by git), in a directory
 * of this process's own: two benches of one revision at once must not rebuild the bundle under each other's runs.
 */
async function bundleOf(revision: string): Promise<string> {
  const dir = path.join(ROOT, '.bench', `${revision.replace(/\W/g, '_')}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', '--format=tar', revision, 'lambda', 'lib'], { cwd: ROOT, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  const outfile = path.join(dir, 'index.js');
  await build({ ...HANDLER_BUNDLE, entryPoints: [path.join(dir, 'lambda', 'index.ts')], outfile });
  return outfile;
}

/** Steady-state runs (nothing changed) of a pool of `size` jobs, of two bundles taking turns: medians of CPU and wall ms. */
async function steadyState(world: Loopback, size: number, bundles: Record<string, string>, samples: number): Promise<void> {
  const results: Record<string, Invocation[]> = {};
  for (const [label, bundle] of Object.entries(bundles)) {
    const pool = `eu-west-1_Steady${label.replace(/\W/g, '')}${size}`;
    world.cognito.pools.set(pool, Array.from({ length: size }, (_, i) => makeJob(i, JOB_STATUSES[i % JOB_STATUSES.length], { ImportedUsers: i })));
    await world.invoke(pool, { TEST_TIMEOUT_MS: '600000' }, { bundle });
    results[label] = [];
  }
  for (let i = 0; i < samples; i++) {
    for (const [label, bundle] of Object.entries(bundles)) {
      const pool = `eu-west-1_Steady${label.replace(/\W/g, '')}${size}`;
      const run = await world.invoke(pool, { TEST_TIMEOUT_MS: '600000' }, { bundle });
      if (run.exitCode !== 0) throw new Error(`${label} run failed: ${run.stderr}`);
      results[label].push(run);
    }
  }
  for (const [label, runs] of Object.entries(results)) {
    console.log(
      `${label.padEnd(24)} ${String(size).padStart(6)} ${median(runs.map((r) => r.cpuMs)).toFixed(0).padStart(15)} ` +
        `${median(runs.map((r) => r.wallMs)).toFixed(0).padStart(8)}`,
    );
  }
}

/**
 * `[name]` when the revision `baseline` sleeps a random while before a scheduled run (releases up to 0.2.0 had a
 * `jitter`): the simulation cannot measure that sleep, so its mean is added to that bundle's Lambda time (bench-cost.ts).
 */
function sleepingOf(baseline: string | undefined, name: string): string[] {
  if (baseline === undefined) return [];
  try {
    execFileSync('git', ['grep', '-q', 'function jitter(', baseline, '--', 'lambda'], { cwd: ROOT });
    return [name];
  } catch {
    return []; // git grep finds nothing: exit status 1
  }
}

async function main(): Promise<void> {
  const libraryBundle = process.env.BENCH_LIBRARY ? await bundleOf(process.env.BENCH_LIBRARY) : BUNDLE;
  if (process.argv.includes('--naive')) {
    const world = new Loopback();
    await world.start();
    try {
      await naiveComparison(world, libraryBundle);
    } finally {
      await world.stop();
    }
    return;
  }
  if (process.argv.includes('--cost')) {
    const baseline = process.env.BENCH_BASELINE;
    const today = `today (${git('rev-parse', '--short', 'HEAD')})`;
    const named = `baseline (${baseline})`;
    await costPerPool(baseline ? { [today]: BUNDLE, [named]: await bundleOf(baseline) } : { [today]: BUNDLE }, sleepingOf(baseline, named));
    return;
  }
  const bytes = fs.statSync(BUNDLE).size;
  console.log(`bundle size: ${bytes} bytes (${(bytes / 1024).toFixed(0)} KiB)`);

  const bundleMs = loadTime(`require(${JSON.stringify(BUNDLE)})`);
  const bareMs = loadTime(
    "const { CognitoIdentityProviderClient } = require('@aws-sdk/client-cognito-identity-provider'); new CognitoIdentityProviderClient({})",
  );
  console.log(
    `load time (median of ${LOAD_SAMPLES} fresh processes): bundle ${bundleMs.toFixed(1)} ms, ` +
      `bare Cognito client ${bareMs.toFixed(1)} ms, ratio ${(bundleMs / bareMs).toFixed(2)}`,
  );

  const world = new Loopback();
  await world.start();
  try {
    const windows: string[] = [];
    console.log('\nrun                    jobs  changes  cognito list calls  expected  other cognito  dynamodb calls  handler cpu ms  wall ms');
    for (const size of [60, 1_000, 10_000]) {
      const pool = `eu-west-1_Bench${size}`;
      const jobs = Array.from({ length: size }, (_, i) => makeJob(i, JOB_STATUSES[i % JOB_STATUSES.length], { ImportedUsers: i }));
      world.cognito.pools.set(pool, jobs);
      const runs: [string, () => void][] = [
        ['first run', () => {}],
        ['steady, no change', () => {}],
        ['10% of jobs listed anew', () => {
          for (let i = 0; i < size; i += 10) jobs[i] = makeJob(i, 'Succeeded', { CompletionDate: new Date(), ImportedUsers: i + 5 });
        }],
      ];
      for (const [label, change] of runs) {
        change();
        const cognitoBefore = world.cognito.requests.length;
        const listings = () => world.cognito.requests.filter((r) => r.target.endsWith('.ListUserImportJobs')).length;
        const listingsBefore = listings();
        const dynamoBefore = world.dynamoRequests;
        // The window in which a kill would publish twice: from the first event sent to the last clear requested.
        let firstSend: number | undefined;
        let lastClear: number | undefined;
        world.eventBridge.fate = () => {
          firstSend ??= performance.now();
          return 'answer';
        };
        world.dynamoFault = (operation, body) => {
          if (operation === 'UpdateItem' && String(body.UpdateExpression).startsWith('REMOVE')) lastClear = performance.now();
          return undefined;
        };
        const started = Date.now();
        const run = await world.invoke(pool, { TEST_TIMEOUT_MS: '600000' });
        const wall = Date.now() - started;
        world.release();
        if (firstSend !== undefined && lastClear !== undefined) windows.push(`${changesOf(run)} changes: ${(lastClear - firstSend).toFixed(0)} ms`);
        if (run.exitCode !== 0) throw new Error(`run failed: ${run.stderr}`);
        const calls = listings() - listingsBefore;
        const others = world.cognito.requests.length - cognitoBefore - calls;
        const expected = Math.max(1, Math.ceil(size / COGNITO_PAGE));
        console.log(
          `${label.padEnd(20)} ${String(size).padStart(6)} ${String(changesOf(run)).padStart(8)} ${String(calls).padStart(19)} ${String(expected).padStart(9)} ${String(others).padStart(14)} ` +
            `${String(world.dynamoRequests - dynamoBefore).padStart(15)} ${run.cpuMs.toFixed(0).padStart(15)} ${String(wall).padStart(8)}`,
        );
      }
    }
    console.log(
      `\n(MaxResults ${PAGE_SIZE}; Cognito returns at most ${COGNITO_PAGE} jobs a page. Other Cognito: DescribeUserPool, once in a run that sends an event of a job with a logs role. DynamoDB calls: state queries, ` +
        'one conditional write per item holding a change (the pool\'s one item, or each of its 16 buckets past 64 KB), one clear of ' +
        'its outbox entries once published, and the write of the next due time: docs/how-it-counts.md, Requests per run.)',
    );
    console.log(`\nduplicate window (first event sent to last outbox clear requested): ${windows.join('; ')}`);

    const baseline = process.env.BENCH_BASELINE;
    const today = `today (${git('rev-parse', '--short', 'HEAD')})`;
    const bundles = baseline ? { [today]: BUNDLE, [`baseline (${baseline})`]: await bundleOf(baseline) } : { [today]: BUNDLE };
    if (baseline) {
      const samples = 7;
      console.log(`\nsteady state, nothing changed, median of ${samples} interleaved runs      jobs  handler cpu ms  wall ms`);
      for (const size of [60, 1_000]) await steadyState(world, size, bundles, samples);
    }

    await fleet(world);
    await costPerPool(bundles, sleepingOf(baseline, `baseline (${baseline})`));

    // A job's end, through the ticks, to its metric: scaled down to a 4 s active interval and ticks every 250 ms.
    const trace = await traceJobEnd(world, 'eu-west-1_BenchCadence', 4, 250);
    const skippedTick = trace.second;
    console.log(
      `\njob end to published metric: ${trace.latencyMs} ms with a 4 s active interval (${trace.skippedTicks} ticks skipped before it); ` +
        'with the defaults, at most the 60 s active interval + up to 3 s of jitter + one run, then CloudWatch\'s ingestion',
    );
    console.log(`a tick that is not due: ${skippedTick.cpuMs.toFixed(0)} ms handler CPU, 1 DynamoDB read, no Cognito call`);

    await naiveComparison(world, libraryBundle);
  } finally {
    await world.stop();
  }
}

/**
 * A fleet of 10, 100 and 1,000 pools of 0 to 60 jobs each (seeded), every pool of the region discovered: the
 * deployment's run (every pool's first run), then a run with nothing changed, as a fleet's steady state.
 */
async function fleet(world: Loopback): Promise<void> {
  synthFleet();
  console.log('\nfleet (every pool discovered), unpaced (COGNITO_REQUESTS_PER_SECOND=1000), then at the default 10 calls a second');
  console.log('run                              pools  cognito list  ListUserPools  dynamodb  handler cpu ms  wall ms  peak MiB');
  let seed = 7;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  for (const size of [10, 100, 1_000]) {
    const prefix = `eu-west-1_Fleet${size}x`;
    for (let p = 0; p < size; p++) {
      const jobs = Array.from({ length: Math.floor(random() * 61) }, (_, i) => makeJob(i, JOB_STATUSES[Math.floor(random() * 8)], { ImportedUsers: i }));
      world.cognito.pools.set(`${prefix}${String(p).padStart(4, '0')}`, jobs);
    }
    // Hour-long ticks, so that one run lists the whole fleet (a tick starts pools within its own interval only).
    const base = {
      MONITOR_NAME: `bench${size}`,
      DISCOVER_USER_POOLS: JSON.stringify({ include: [`${prefix}*`] }),
      TEST_TIMEOUT_MS: '3600000',
      SCHEDULE_SECONDS: '3600',
      ACTIVE_SCHEDULE_SECONDS: '3600',
    };
    const unpaced = { ...base, COGNITO_REQUESTS_PER_SECOND: '1000' };
    const runs: [string, Record<string, string>][] = [['first run of every pool', unpaced], ['nothing changed', unpaced]];
    if (size === 1_000) runs.push(['nothing changed, paced', base]);
    for (const [label, env] of runs) {
      const count = (suffix: string) => world.cognito.requests.filter((r) => r.target.endsWith(suffix)).length;
      const [lists, pools, dynamo] = [count('.ListUserImportJobs'), count('.ListUserPools'), world.dynamoRequests];
      const run = await world.invoke(undefined, env);
      if (run.exitCode !== 0) throw new Error(`fleet run failed: ${run.stderr}`);
      console.log(
        `${label.padEnd(30)} ${String(size).padStart(6)} ${String(count('.ListUserImportJobs') - lists).padStart(13)} ` +
          `${String(count('.ListUserPools') - pools).padStart(14)} ${String(world.dynamoRequests - dynamo).padStart(9)} ` +
          `${run.cpuMs.toFixed(0).padStart(15)} ${String(run.wallMs).padStart(8)} ${run.maxRssMb.toFixed(0).padStart(9)}`,
      );
    }
    for (const id of [...world.cognito.pools.keys()]) if (id.startsWith(prefix)) world.cognito.pools.delete(id);
  }
}

/** Synthesizes a monitor of 1,000 listed pools, as a user's `cdk synth` would: its resources, and how long it took. */
function synthFleet(): void {
  const started = performance.now();
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-')) });
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
  const userPools = Array.from({ length: 1_000 }, (_, i) => cognito.UserPool.fromUserPoolId(stack, `Pool${i}`, `eu-west-1_Tenant${i}`));
  new ImportJobMonitor(stack, 'Monitor', { userPools });
  const template = app.synth().getStackByName('Fleet').template;
  const ms = performance.now() - started;
  const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
  const alarms = types.filter((t) => t === 'AWS::CloudWatch::Alarm').length;
  console.log(`\nsynth of a 1,000-pool monitor: ${types.length} resources (${alarms} alarms), ${ms.toFixed(0)} ms in this process`);
}

/** Changes the run stored (an ended job listed as ended again with other counts is older, not a change). */
function changesOf(run: Invocation): number {
  return run.logs.find((l) => l.message === 'Run summary')?.changesStored ?? NaN;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
}

// ---------------------------------------------------------------------------------------------------------------
// Against a naive monitor (`npm run bench -- --naive` runs only this)
// ---------------------------------------------------------------------------------------------------------------

const NAIVE_SOURCE = path.join(__dirname, 'naive-monitor.ts');
/** Timed samples per pool size, after one warm-up sample that also meters DynamoDB capacity; and of the fleet. */
const SAMPLES = Number(process.env.BENCH_SAMPLES) || undefined;
const NAIVE_SAMPLES: Record<number, number> = { 1_000: SAMPLES ?? 9, 10_000: SAMPLES ?? 3 };
const FLEET_SAMPLES = SAMPLES ?? 1;
const FLEET_POOLS = 1_000;
// The issue's targets: the library's wall time at most this many times the naive monitor's.
const TARGETS: Partial<Record<Scenario, number>> = { 'first run': 1.5, steady: 1.0, '10% changed': 1.0, '10% changed, no events': 1.0 };
// The library paces its Cognito calls (10 a second by default, for the account's quota); the naive monitor does not.
// The ratios compare the work of each, the library unpaced; `steady, paced` shows the default pacing's own cost.
const UNPACED = { COGNITO_REQUESTS_PER_SECOND: '1000' };
// A month of runs of a single pool at the default 5-minute schedule.
const RUNS_A_MONTH = 8_640;
const DYNAMO_READS = new Set(['GetItem', 'Query', 'BatchGetItem', 'Scan']);

// `10% changed, no events`: another tenth ended, the library with jobEvents off (EVENT_BUS_NAME unset), as the naive
// monitor sends none: the store's work alone, beside `10% changed`, whose PutEvents calls the naive has no part of.
type Scenario = 'first run' | 'steady' | 'steady, paced' | '10% changed' | '10% changed, no events';
type Monitor = 'library' | 'naive';

/** What one run of one monitor did. */
interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly loadMs: number;
  readonly maxRssMb: number;
  /** DynamoDB requests by operation. */
  readonly dynamo: Record<string, number>;
  /** Cognito requests by operation. */
  readonly cognito: Record<string, number>;
  readonly eventCalls: number;
  readonly series: number;
  readonly datapoints: number;
  readonly logBytes: number;
  /** Completions counted (JobsCompleted, summed over statuses and pools). */
  readonly completions: number;
  /** Read and write request units, when metered (the warm-up sample). */
  readonly capacity?: { readonly reads: number; readonly writes: number };
}

/** The function's configured memory and timeout, as the construct synthesizes them. */
interface Deployed {
  readonly memoryMb: number;
  readonly timeoutS: number;
}

/**
 * A proxy in front of the loopback's DynamoDB that asks for `ReturnConsumedCapacity: TOTAL` on every request (dynalite
 * computes it from the items' sizes, as DynamoDB does) and sums the capacity units answered, reads and writes apart.
 * The body it forwards is no longer the one signed, which dynalite does not check. Only the warm-up sample goes
 * through it: its extra hop would weigh on the monitor making more requests.
 */
class CapacityMeter {
  public reads = 0;
  public writes = 0;
  public endpoint = '';
  private server?: http.Server;

  constructor(private readonly target: string) {}

  public async start(): Promise<void> {
    const target = new URL(this.target);
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const operation = String(req.headers['x-amz-target'] ?? '').replace('DynamoDB_20120810.', '');
        const body = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.concat(chunks).toString() || '{}'), ReturnConsumedCapacity: 'TOTAL' }));
        const headers = { ...req.headers, 'content-length': String(body.length) };
        const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (part) => parts.push(part));
          answer.on('end', () => {
            const raw = Buffer.concat(parts);
            const consumed = [JSON.parse(raw.toString() || '{}').ConsumedCapacity ?? []].flat() as { CapacityUnits?: number }[];
            const units = consumed.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
            if (DYNAMO_READS.has(operation)) this.reads += units;
            else this.writes += units;
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            res.end(raw);
          });
        });
        upstream.on('error', () => res.destroy());
        upstream.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The naive monitor, bundled as the handler is. */
async function naiveBundle(): Promise<string> {
  const outfile = path.join(ROOT, '.bench', `naive-${process.pid}`, 'index.js');
  await build({ ...HANDLER_BUNDLE, entryPoints: [NAIVE_SOURCE], outfile });
  return outfile;
}

/** The monitor function's memory and timeout as synthesized: a single pool's, or a fleet's. */
function deployed(fleet: boolean): Deployed {
  const stack = new Stack(new App(), 'Deployed', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pool = cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_Deployed1');
  new ImportJobMonitor(stack, 'Monitor', fleet ? { userPools: [pool], monitorName: 'deployed' } : { userPool: pool });
  const resources = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string; Properties: any }>);
  const fn = resources.find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.STATE_TABLE_NAME !== undefined)!;
  return { memoryMb: fn.Properties.MemorySize, timeoutS: fn.Properties.Timeout };
}

function tally(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Runs one monitor once, in a fresh process, and reads what it asked of each server and published. */
async function measure(world: Loopback, pool: string | undefined, env: Record<string, string>, bundle: string, meter?: CapacityMeter): Promise<Sample> {
  const [dynamoAt, cognitoAt, eventsAt] = [world.dynamoLog.length, world.cognito.requests.length, world.eventBridge.calls.length];
  const endpoint = world.dynamoEndpoint;
  const [readsAt, writesAt] = [meter?.reads ?? 0, meter?.writes ?? 0];
  if (meter) world.dynamoEndpoint = meter.endpoint;
  let run: Invocation;
  try {
    run = await world.invoke(pool, { TEST_TIMEOUT_MS: '600000', ...env }, { bundle });
  } finally {
    world.dynamoEndpoint = endpoint;
  }
  if (run.exitCode !== 0) throw new Error(`run of ${bundle} failed: ${run.stderr}`);
  const points = datapoints(run.emf);
  return {
    wallMs: run.wallMs,
    cpuMs: run.cpuMs,
    loadMs: run.loadMs,
    maxRssMb: run.maxRssMb,
    dynamo: tally(world.dynamoLog.slice(dynamoAt).map((r) => r.operation)),
    cognito: tally(world.cognito.requests.slice(cognitoAt).map((r) => r.target.replace('AWSCognitoIdentityProviderService.', ''))),
    eventCalls: world.eventBridge.calls.length - eventsAt,
    series: new Set(points.map((p) => p.key)).size,
    datapoints: points.length,
    logBytes: [...run.emf, ...run.logs].reduce((sum, record) => sum + JSON.stringify(record).length + 1, 0),
    completions: points.filter((p) => p.key.startsWith('JobsCompleted{')).reduce((sum, p) => sum + p.value, 0),
    capacity: meter ? { reads: meter.reads - readsAt, writes: meter.writes - writesAt } : undefined,
  };
}

/** A pool of `size` jobs: a tenth in progress (the jobs a changed run moves on), the rest in every status in turn. */
function naiveBenchJobs(size: number): FakeJob[] {
  return Array.from({ length: size }, (_, i) => ({
    ...(i % 10 === 0 ? makeJob(i, 'InProgress', { ImportedUsers: i }) : makeJob(i, JOB_STATUSES[i % 8], { ImportedUsers: i })),
    JobId: cognitoJobId(i),
  }));
}

const JOB_ID_CHARACTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A job ID as Cognito makes them, `import-` and 10 random letters and digits (`import-qQ0DCt2fRh`), the same for the
 * same `n`: they compress to some 15 bytes a job, where the tests' sequential IDs take 5, so a pool's stored state
 * weighs here what it does in AWS.
 */
function cognitoJobId(n: number): string {
  const random = seededRandom(n + 1);
  return `import-${Array.from({ length: 10 }, () => JOB_ID_CHARACTERS[Math.floor(random() * JOB_ID_CHARACTERS.length)]).join('')}`;
}

/** A tenth of the jobs end: `Succeeded`, 5 more users imported and 1 failed, a status and counts that both monitors count. */
function endATenth(jobs: FakeJob[], offset = 0): void {
  for (let i = offset; i < jobs.length; i += 10) {
    jobs[i] = { ...makeJob(i, 'Succeeded', { StartDate: jobs[i].CreationDate, CompletionDate: new Date(), ImportedUsers: i + 5, FailedUsers: 1 }), JobId: jobs[i].JobId };
  }
}

type Samples = Record<Scenario, Record<Monitor, Sample[]>>;

/**
 * The library beside the naive monitor for a pool of `size` jobs, in the same loopback world: per sample, fresh pools
 * of the same jobs for each and a fresh table, then a first run, a steady run and a run after a tenth of the jobs
 * ended, each monitor in turn (which goes first alternates). Sample 0 warms up and meters capacity, and is not timed.
 */
async function againstNaive(world: Loopback, client: DynamoDBClient, bundles: Record<Monitor, string>, size: number, samples: number): Promise<Samples> {
  const scenarios = scenariosOf(size);
  const result = Object.fromEntries(scenarios.map((s) => [s, { library: [], naive: [] }])) as unknown as Samples;
  const warmUp = Object.fromEntries(scenarios.map((s) => [s, {}])) as Record<Scenario, Partial<Record<Monitor, Sample>>>;
  const meter = new CapacityMeter(world.dynamoEndpoint);
  await meter.start();
  try {
    for (let k = 0; k <= samples; k++) {
      const table = `naive-bench-${size}-${k}`;
      await createStateTable(client, table); // an empty table of its own for each sample
      const jobs = naiveBenchJobs(size);
      const pools: Record<Monitor, string> = { library: `eu-west-1_NvLib${size}s${k}`, naive: `eu-west-1_NvNaive${size}s${k}` };
      for (const pool of Object.values(pools)) world.cognito.pools.set(pool, jobs);
      const order: Monitor[] = k % 2 === 0 ? ['library', 'naive'] : ['naive', 'library'];
      for (const scenario of scenarios) {
        if (scenario === '10% changed') endATenth(jobs);
        if (scenario === '10% changed, no events') endATenth(jobs, 5);
        for (const monitor of order) {
          const env = {
            STATE_TABLE_NAME: table,
            ...(scenario === 'steady, paced' ? {} : UNPACED),
            ...(scenario === '10% changed, no events' ? { EVENT_BUS_NAME: '' } : {}),
          };
          const sample = await measure(world, pools[monitor], env, bundles[monitor], k === 0 ? meter : undefined);
          if (k === 0) warmUp[scenario][monitor] = sample;
          else result[scenario][monitor].push(sample);
        }
      }
      for (const pool of Object.values(pools)) world.cognito.pools.delete(pool);
      await client.send(new DeleteTableCommand({ TableName: table }));
    }
  } finally {
    await meter.stop();
  }
  // The metered capacity rides on the timed samples' figures: every sample asks the same of DynamoDB.
  for (const scenario of scenarios) {
    for (const monitor of MONITORS) result[scenario][monitor][0] = { ...result[scenario][monitor][0], capacity: warmUp[scenario][monitor]!.capacity };
  }
  return result;
}

/** The runs of a sample, in order; the paced steady run only at 1,000 jobs (at 10,000 it takes 20 s for its pacing alone). */
function scenariosOf(size: number): Scenario[] {
  return size <= 1_000
    ? ['first run', 'steady', 'steady, paced', '10% changed', '10% changed, no events']
    : ['first run', 'steady', '10% changed', '10% changed, no events'];
}
const MONITORS: readonly Monitor[] = ['library', 'naive'];

/**
 * The first run of a fleet of FLEET_POOLS pools of 0 to 60 jobs each (seeded), every pool discovered: the library's
 * fleet (unpaced, COGNITO_REQUESTS_PER_SECOND=1000, as the naive monitor does not pace) beside the naive monitor
 * running its pools four at a time, each in a table of its own and with only its own pools in the region.
 */
async function fleetAgainstNaive(world: Loopback, client: DynamoDBClient, bundles: Record<Monitor, string>, samples: number): Promise<Record<Monitor, Sample[]>> {
  let seed = 11;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const fleetJobs = Array.from({ length: FLEET_POOLS }, () =>
    Array.from({ length: Math.floor(random() * 61) }, (_, i) => makeJob(i, JOB_STATUSES[Math.floor(random() * 8)], { ImportedUsers: i })),
  );
  const result: Record<Monitor, Sample[]> = { library: [], naive: [] };
  const warmUp: Partial<Record<Monitor, Sample>> = {};
  const meter = new CapacityMeter(world.dynamoEndpoint);
  await meter.start();
  try {
    for (let k = 0; k <= samples; k++) {
      const order: Monitor[] = k % 2 === 0 ? ['library', 'naive'] : ['naive', 'library'];
      for (const monitor of order) {
        const table = `naive-bench-fleet-${monitor}-${k}`;
        await createStateTable(client, table); // an empty table of its own for each sample
        const prefix = `eu-west-1_NvFleet${monitor === 'library' ? 'Lib' : 'Naive'}${k}x`;
        fleetJobs.forEach((jobs, p) => world.cognito.pools.set(`${prefix}${String(p).padStart(4, '0')}`, jobs));
        const env = {
          STATE_TABLE_NAME: table,
          MONITOR_NAME: `naive-bench-${k}`,
          DISCOVER_USER_POOLS: JSON.stringify({ include: [`${prefix}*`] }),
          ...UNPACED,
          // Hour-long ticks, so that one run lists the whole fleet (a tick starts pools within its own interval only).
          SCHEDULE_SECONDS: '3600',
          ACTIVE_SCHEDULE_SECONDS: '3600',
          TEST_TIMEOUT_MS: '3600000',
        };
        const sample = await measure(world, undefined, env, bundles[monitor], k === 0 ? meter : undefined);
        if (k === 0) warmUp[monitor] = sample;
        else result[monitor].push(sample);
        for (const id of [...world.cognito.pools.keys()]) if (id.startsWith(prefix)) world.cognito.pools.delete(id);
        await client.send(new DeleteTableCommand({ TableName: table }));
      }
    }
  } finally {
    await meter.stop();
  }
  for (const monitor of MONITORS) result[monitor][0] = { ...result[monitor][0], capacity: warmUp[monitor]!.capacity };
  return result;
}

interface Row {
  readonly label: string;
  readonly samples: Record<Monitor, Sample[]>;
  /** The largest ratio of wall times the issue accepts, if it sets one. */
  readonly target?: number;
}

/** Per-operation medians over samples, as `Query 1, UpdateItem 1000`. */
function requests(samples: readonly Sample[], of: (s: Sample) => Record<string, number>): string {
  const operations = [...new Set(samples.flatMap((s) => Object.keys(of(s))))].sort();
  const total = median(samples.map((s) => Object.values(of(s)).reduce((a, b) => a + b, 0)));
  if (operations.length === 0) return '0';
  return `${total}: ${operations.map((op) => `${op} ${median(samples.map((s) => of(s)[op] ?? 0))}`).join(', ')}`;
}

function printComparison(title: string, rows: readonly Row[], fn: Deployed): void {
  console.log(`\n${title}`);
  console.log(
    'scenario        monitor   wall ms  ratio  target   cpu ms  load ms  peak RSS MiB / ' +
      `${fn.memoryMb} (free)   events  completions  cognito requests; dynamodb requests (by operation)`,
  );
  for (const { label, samples, target } of rows) {
    const wall = (m: Monitor) => median(samples[m].map((s) => s.wallMs));
    const ratio = wall('library') / wall('naive');
    for (const monitor of MONITORS) {
      const runs = samples[monitor];
      const peak = Math.max(...runs.map((s) => s.maxRssMb));
      const first = monitor === 'library';
      const verdict = target === undefined ? '' : `<=${target.toFixed(1)}x ${ratio <= target ? 'met' : 'NOT met'}`;
      console.log(
        `${(first ? label : '').padEnd(15)} ${monitor.padEnd(8)} ${wall(monitor).toFixed(0).padStart(8)} ` +
          `${(first ? `${ratio.toFixed(2)}x` : '').padStart(6)}  ${(first ? verdict : '').padEnd(12)} ` +
          `${median(runs.map((s) => s.cpuMs)).toFixed(0).padStart(6)} ${median(runs.map((s) => s.loadMs)).toFixed(0).padStart(8)} ` +
          `${`${peak.toFixed(0)} (${(100 - (100 * peak) / fn.memoryMb).toFixed(0)}% free)`.padStart(26)} ` +
          `${String(median(runs.map((s) => s.eventCalls))).padStart(8)} ${String(median(runs.map((s) => s.completions))).padStart(12)}  ` +
          `${requests(runs, (s) => s.cognito)}; ${requests(runs, (s) => s.dynamo)}`,
      );
    }
  }
}

/** What the README's cost tables take from a run: metric series and datapoints, log bytes, GB-seconds, request units. */
function printCostInputs(rows: readonly Row[], fn: Deployed): void {
  console.log(
    `\ncost inputs per run (${fn.memoryMb} MB arm64; GB-s from the median wall time of the whole process; request units metered by dynalite in the warm-up sample)`,
  );
  console.log('scenario        monitor   series  datapoints  log KB     GB-s      RRU      WRU   $ a run (Lambda, DynamoDB)    x 8,640 runs (a month at 5 min)');
  for (const { label, samples } of rows) {
    for (const monitor of MONITORS) {
      const runs = samples[monitor];
      const gbSeconds = (median(runs.map((s) => s.wallMs)) / 1000) * (fn.memoryMb / 1024);
      const { reads, writes } = runs[0].capacity ?? { reads: NaN, writes: NaN };
      const lambdaCost = gbSeconds * PRICE.lambdaGbSecond + PRICE.lambdaRequestMillion / 1e6;
      const dynamoCost = (reads * PRICE.readMillion + writes * PRICE.writeMillion) / 1e6;
      console.log(
        `${(monitor === 'library' ? label : '').padEnd(15)} ${monitor.padEnd(8)} ${String(median(runs.map((s) => s.series))).padStart(7)} ` +
          `${String(median(runs.map((s) => s.datapoints))).padStart(11)} ${(median(runs.map((s) => s.logBytes)) / 1024).toFixed(1).padStart(7)} ` +
          `${gbSeconds.toFixed(3).padStart(8)} ${String(reads).padStart(8)} ${String(writes).padStart(8)}   ` +
          `$${(lambdaCost + dynamoCost).toFixed(7)} ($${lambdaCost.toFixed(7)}, $${dynamoCost.toFixed(7)})   $${((lambdaCost + dynamoCost) * RUNS_A_MONTH).toFixed(3)}`,
      );
    }
  }
}

/**
 * "Against a naive monitor": the library's runs beside those of scripts/naive-monitor.ts (one item per pool, no
 * guarantees), in the same process and on the same loopback servers, at 1,000 and 10,000 jobs and for the first run of
 * a fleet of 1,000 pools.
 */
async function naiveComparison(world: Loopback, libraryBundle: string): Promise<void> {
  const bundles: Record<Monitor, string> = { library: libraryBundle, naive: await naiveBundle() };
  const [single, fleet] = [deployed(false), deployed(true)];
  const client = new DynamoDBClient({ region: 'eu-west-1', endpoint: world.dynamoEndpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  console.log(
    `\nAgainst a naive monitor (scripts/naive-monitor.ts): library ${path.relative(ROOT, bundles.library)}, naive ${path.relative(ROOT, bundles.naive)}; ` +
      'each run a fresh Node.js process (wall: the whole process, load included), samples interleaved, which monitor goes first alternating; ' +
      'the library unpaced (COGNITO_REQUESTS_PER_SECOND=1000) but in "steady, paced", at its default 10 Cognito calls a second',
  );
  try {
    for (const size of [1_000, 10_000]) {
      const samples = NAIVE_SAMPLES[size];
      const started = performance.now();
      const result = await againstNaive(world, client, bundles, size, samples);
      const rows = scenariosOf(size).map((scenario) => ({ label: scenario, samples: result[scenario], target: TARGETS[scenario] }));
      printComparison(
        `${size.toLocaleString('en')} jobs, medians of ${samples} samples after a warm-up (${((performance.now() - started) / 1000).toFixed(0)} s); ` +
          `the function: ${single.memoryMb} MB, ${single.timeoutS} s`,
        rows,
        single,
      );
      printCostInputs(rows, single);
    }
    const started = performance.now();
    const result = await fleetAgainstNaive(world, client, bundles, FLEET_SAMPLES);
    const rows = [{ label: 'first run', samples: result }];
    printComparison(
      `fleet of ${FLEET_POOLS.toLocaleString('en')} pools (0 to 60 jobs each), every pool discovered, first run: the library unpaced ` +
        `(COGNITO_REQUESTS_PER_SECOND=1000), 4 pools at a time; the naive monitor 4 pools at a time; ${FLEET_SAMPLES} sample(s) ` +
        `after a warm-up (${((performance.now() - started) / 1000).toFixed(0)} s); the function: ${fleet.memoryMb} MB, ${fleet.timeoutS} s`,
      rows,
      fleet,
    );
    printCostInputs(rows, fleet);
    console.log(
      '\n(Requests are the medians of the timed samples. The naive monitor counts a tenth of the jobs ending as the library does ' +
        '(completions); it sends no events, stores one item per pool (about 28 bytes a job: its reads and writes grow with the pool, ' +
        'and past about 14,000 jobs it outgrows DynamoDB\'s 400 KB), writes only when something changed, and guarantees nothing.)',
    );
  } finally {
    client.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
