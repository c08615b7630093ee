/**
 * `npm run bench`: the handler bundle's size, its load time against the bare Cognito client's, and the
 * CPU time and API calls of one run for pools of 60, 1,000 and 10,000 jobs, against loopback servers, with the
 * window in which a killed run would publish twice. With BENCH_BASELINE=<git revision>, also the steady-state run
 * of that revision's handler beside today's, interleaved in the same bench run, and the cost of a pool a month
 * (scripts/bench-cost.ts) for both.
 * Prints figures; asserts nothing.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as os from 'os';
import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { ImportJobMonitor } from '../lib';
import { JOB_STATUSES } from '../lib/contract';
import { PAGE_SIZE } from '../lambda/listing';
import { makeJob } from '../test/support/fake-cognito';
import { BUNDLE, Invocation, Loopback } from '../test/support/loopback';
// @ts-ignore: a plain ES module shared with scripts/build.mjs
import { HANDLER_BUNDLE } from './handler-bundle.mjs';
import { traceJobEnd } from '../test/support/cadence';
import { costPerPool } from './bench-cost';

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

/** Bundles the handler of another git revision, as `npm run build` does, under .bench/ (ignored by git). */
async function bundleOf(revision: string): Promise<string> {
  const dir = path.join(ROOT, '.bench', revision);
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

async function main(): Promise<void> {
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
        'one conditional write per changed job, one clear of its outbox entry once published, and the write of the next due time.)',
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
    await costPerPool(bundles);

    // A job's end, through the ticks, to its metric: scaled down to a 4 s active interval and ticks every 250 ms.
    const trace = await traceJobEnd(world, 'eu-west-1_BenchCadence', 4, 250);
    const skippedTick = trace.second;
    console.log(
      `\njob end to published metric: ${trace.latencyMs} ms with a 4 s active interval (${trace.skippedTicks} ticks skipped before it); ` +
        'with the defaults, at most the 60 s active interval + up to 3 s of jitter + one run, then CloudWatch\'s ingestion',
    );
    console.log(`a tick that is not due: ${skippedTick.cpuMs.toFixed(0)} ms handler CPU, 1 DynamoDB read, no Cognito call`);
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

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
