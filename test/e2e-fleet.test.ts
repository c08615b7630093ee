/**
 * Fleets: the bundled handler, in its own process, monitoring many pools from one function against the loopback
 * servers: a list with one failing pool, and every pool of the region discovered each tick.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { ImportJobMonitor } from '../lib';
import { NOT_AUTHORIZED, makeJob } from './support/fake-cognito';
import { Invocation, loopbackForSuite } from './support/loopback';
import { datapoints, sumOf } from './support/emf';

const world = loopbackForSuite();
const MONITOR = 'tenants';

function fleetEnv(extra: Record<string, string>): Record<string, string> {
  return { MONITOR_NAME: MONITOR, ...extra };
}

const summaryOf = (run: Invocation) => run.logs.find((l) => l.message === 'Fleet summary');
const completed = (run: Invocation, pool: string, status: string) => sumOf(run.emf, `JobsCompleted{UserPoolId=${pool},Status=${status}}`);
const heartbeat = (run: Invocation) => sumOf(run.emf, `Heartbeat{Monitor=${MONITOR}}`);
const listed = (pool: string) => world.cognito.requests.filter((r) => r.target.endsWith('.ListUserImportJobs') && r.body.UserPoolId === pool).length;

describe('a fleet of listed pools', () => {
  it('runs every pool, and one that fails is reported and stops none of the others', async () => {
    const [a, b, bad] = ['eu-west-1_FleetA', 'eu-west-1_FleetB', 'eu-west-1_FleetBad'];
    const jobsA = [makeJob(1, 'InProgress')];
    world.cognito.pools.set(a, jobsA);
    world.cognito.pools.set(b, [makeJob(1, 'Succeeded', { CompletionDate: new Date(Date.now() - 86_400_000) })]);
    world.cognito.pools.set(bad, []);
    world.cognito.poolErrors.set(bad, NOT_AUTHORIZED);
    const env = fleetEnv({ USER_POOL_IDS: [a, bad, b].join(','), AWS_MAX_ATTEMPTS: '1' });

    // The bus is the suite's: only what this run sent counts, whatever ran before.
    const eventsBefore = world.eventBridge.events.length;
    const first = await world.invoke(undefined, env);
    expect(first.exitCode).toBe(0);
    expect(summaryOf(first)).toMatchObject({ pools: 3, due: 3, ran: 3, deferred: 0, failed: [{ userPoolId: bad, error: expect.stringMatching(/^NotAuthorizedException/) }] });
    expect(first.logs).toContainEqual(expect.objectContaining({ level: 'ERROR', message: 'Pool run failed; the other pools go on', userPoolId: bad }));
    expect(sumOf(first.emf, `PoolRunsFailed{UserPoolId=${bad}}`)).toBe(1);
    expect(sumOf(first.emf, `PoolsMonitored{Monitor=${MONITOR}}`)).toBe(3);
    // One pool failing is its own alarm's to report: the fleet works, and says so.
    expect(heartbeat(first)).toBe(1);
    expect(world.eventBridge.events.slice(eventsBefore).filter((e) => e.detailType === 'Cognito User Import Monitor Pool Run Failed').map((e) => e.detail)).toEqual([
      expect.objectContaining({ userPoolId: bad, monitor: MONITOR, errorName: 'NotAuthorizedException', operation: 'ListUserImportJobs page 1' }),
    ]);

    // The others went on: A's job ends and is counted; B, quiet, publishes nothing of its own.
    world.cognito.poolErrors.delete(bad);
    jobsA[0] = makeJob(1, 'Failed', { CompletionDate: new Date(), ImportedUsers: 3 });
    const second = await world.invoke(undefined, env);
    expect(summaryOf(second)).toMatchObject({ ran: 3, failed: [] });
    expect(completed(second, a, 'Failed')).toBe(1);
    expect(heartbeat(second)).toBe(1);
    const perPool = (pool: string) => datapoints(second.emf).filter((p) => p.key.includes(`UserPoolId=${pool}`));
    // B has only an ended job: its gauge would never go back to zero, and a fleet reads none of it.
    expect(perPool(b)).toEqual([]);
    expect(perPool(a).map((p) => p.key)).toContain(`JobsCompleted{UserPoolId=${a},Status=Failed}`);
    expect(perPool(bad)).toEqual([]);
    expect(perPool(a).filter((p) => p.value === 0)).toEqual([]);
    expect(datapoints(second.emf).map((p) => p.key).filter((key) => key.startsWith('Heartbeat{UserPoolId'))).toEqual([]);
  });

  it('reports every pool it ran failing by name (PoolRunsFailed), and still sends its heartbeat: the fleet itself works', async () => {
    const pools = ['eu-west-1_AllBad1', 'eu-west-1_AllBad2'];
    for (const id of pools) {
      world.cognito.pools.set(id, []);
      world.cognito.poolErrors.set(id, NOT_AUTHORIZED);
    }
    const run = await world.invoke(undefined, fleetEnv({ USER_POOL_IDS: pools.join(','), AWS_MAX_ATTEMPTS: '1' }));
    expect(summaryOf(run)).toMatchObject({ ran: 2 });
    expect(summaryOf(run)?.failed.map((f: { userPoolId: string }) => f.userPoolId).sort()).toEqual(pools);
    expect(pools.map((id) => sumOf(run.emf, `PoolRunsFailed{UserPoolId=${id}}`))).toEqual([1, 1]);
    expect(heartbeat(run)).toBe(1);
    for (const id of pools) world.cognito.poolErrors.delete(id);
  });

  it('sends a heartbeat of 0 when its tick fails before it can run its pools', async () => {
    world.cognito.failNext({ type: 'NotAuthorizedException', status: 400, message: 'not authorized' });
    const run = await world.invoke(undefined, fleetEnv({ DISCOVER_USER_POOLS: '{}', AWS_MAX_ATTEMPTS: '1' }));
    expect(run.exitCode).toBe(1);
    expect(heartbeat(run)).toBe(0);
    expect(datapoints(run.emf).map((p) => `${p.key}=${p.value}`)).toEqual([`Heartbeat{Monitor=${MONITOR}}=0`]);
  });

  it('spaces its Cognito calls out to the pace it is given', async () => {
    const pools = Array.from({ length: 12 }, (_, i) => `eu-west-1_Paced${String(i).padStart(2, '0')}`);
    for (const id of pools) world.cognito.pools.set(id, []);
    const before = world.cognito.requests.length;
    const run = await world.invoke(undefined, fleetEnv({ USER_POOL_IDS: pools.join(','), COGNITO_REQUESTS_PER_SECOND: '20' }));
    expect(summaryOf(run)).toMatchObject({ ran: 12, failed: [] });
    const times = world.cognito.requests.slice(before).map((r) => r.at);
    // 12 calls at 20 a second: started 50 ms apart, however fast the machine. Arrivals are measured from the second
    // call, since the first also opens the connection, and with 50 ms of slack for a loaded machine: 10 gaps take
    // at least 450 ms (unpaced, the 12 arrive within a few ms of each other).
    expect(times).toHaveLength(12);
    expect(times[11] - times[1]).toBeGreaterThanOrEqual(450);
  });

  it('lists on a tick only the pools that are due, and each pool once', async () => {
    const pools = ['eu-west-1_DueA', 'eu-west-1_DueB'];
    world.cognito.pools.set(pools[0], [makeJob(1, 'InProgress')]);
    world.cognito.pools.set(pools[1], []);
    const env = fleetEnv({ USER_POOL_IDS: pools.join(',') });
    expect((await world.invoke(undefined, env)).exitCode).toBe(0);
    const before = pools.map(listed);
    const tick = await world.invoke(undefined, { ...env, TEST_EVENT: JSON.stringify({ 'detail-type': 'Scheduled Event' }) }, { clockOffsetMs: 61_000 });
    // A has a job under way: due a minute on. B is quiet: due after the schedule (5 minutes).
    expect(summaryOf(tick)).toMatchObject({ pools: 2, due: 1, ran: 1 });
    expect(pools.map(listed).map((n, i) => n - before[i])).toEqual([1, 0]);
  });
});

describe('a fleet of every pool in the region', () => {
  it('watches a pool created between two ticks, and forgets one deleted', async () => {
    const pools = ['eu-west-1_DiscA', 'eu-west-1_DiscB', 'eu-west-1_DiscOps', 'us-east-1_DiscOther'];
    for (const id of pools) world.cognito.pools.set(id, [makeJob(1, 'Created')]);
    world.cognito.names.set('eu-west-1_DiscOps', 'ops-internal');
    const env = fleetEnv({ DISCOVER_USER_POOLS: JSON.stringify({ include: ['eu-west-1_Disc*'], exclude: ['ops-*'] }) });

    const first = await world.invoke(undefined, env);
    expect(summaryOf(first)).toMatchObject({ pools: 2, ran: 2, failed: [] });
    expect(['eu-west-1_DiscA', 'eu-west-1_DiscB', 'eu-west-1_DiscOps'].map(listed)).toEqual([1, 1, 0]);
    const listPools = world.cognito.requests.filter((r) => r.target.endsWith('.ListUserPools'));
    expect(listPools.length).toBeGreaterThan(0);
    expect(listPools.map((r) => ({ MaxResults: r.body.MaxResults, region: r.region }))).toEqual(listPools.map(() => ({ MaxResults: 60, region: 'eu-west-1' })));

    // A tenant's pool is created; another is deleted.
    world.cognito.pools.set('eu-west-1_DiscNew', [makeJob(1, 'Failed', { CompletionDate: new Date() })]);
    world.cognito.pools.delete('eu-west-1_DiscB');
    const second = await world.invoke(undefined, env);
    expect(summaryOf(second)).toMatchObject({ pools: 2, ran: 2, failed: [] });
    expect(['eu-west-1_DiscA', 'eu-west-1_DiscB', 'eu-west-1_DiscNew'].map(listed)).toEqual([2, 1, 1]);
    // The new pool's first run counts the job that failed within the last period.
    expect(completed(second, 'eu-west-1_DiscNew', 'Failed')).toBe(1);
    // Its event names its import log by the name discovery listed, without asking DescribeUserPool.
    expect(world.eventBridge.events.find((e) => e.detail.eventKey === 'eu-west-1_DiscNew/import-0000000001/Failed')?.detail.importLog).toEqual({
      logGroupName: '/aws/cognito/userpools/eu-west-1_DiscNew/pool-DiscNew',
      logStreamName: 'import-0000000001/job-1',
    });
    expect(world.cognito.requests.filter((r) => r.target.endsWith('.DescribeUserPool') && r.body.UserPoolId.startsWith('eu-west-1_Disc'))).toEqual([]);
  });

  it('follows ListUserPools through every page', async () => {
    const ids = Array.from({ length: 130 }, (_, i) => `eu-west-1_Page${String(i).padStart(3, '0')}`);
    for (const id of ids) world.cognito.pools.set(id, []);
    // Quicker than the 10 calls a second a fleet keeps to by default, which the unit tests cover.
    const run = await world.invoke(undefined, fleetEnv({ DISCOVER_USER_POOLS: '{"include":["eu-west-1_Page*"]}', COGNITO_REQUESTS_PER_SECOND: '1000' }));
    expect(summaryOf(run)).toMatchObject({ pools: 130, ran: 130, failed: [] });
    for (const id of ids) world.cognito.pools.delete(id);
  });

  it('fails with the value when the patterns are not JSON lists of patterns', async () => {
    const run = await world.invoke(undefined, fleetEnv({ DISCOVER_USER_POOLS: '{"include":"tenant-*"}' }));
    expect(run.exitCode).toBe(1);
    expect(run.logs.find((l) => l.message === 'Run failed')?.error.message).toBe(
      'DISCOVER_USER_POOLS must be JSON such as {"include":["tenant-*"],"exclude":[]}, lists of non-empty patterns, got "{\\"include\\":\\"tenant-*\\"}"',
    );
  });
});

describe('a fleet listed by the construct', () => {
  it('reads a list too long for the environment from the file the construct ships beside the bundle', async () => {
    const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'fleet-synth-')) });
    const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
    const ids = Array.from({ length: 150 }, (_, i) => `eu-west-1_Long${String(i).padStart(3, '0')}`);
    new ImportJobMonitor(stack, 'Monitor', {
      userPools: ids.map((id, i) => cognito.UserPool.fromUserPoolId(stack, `Pool${i}`, id)),
      runOnDeploy: false,
    });
    const assembly = app.synth();
    const functions = Object.values(assembly.getStackByName('Fleet').template.Resources as Record<string, any>).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables?.USER_POOL_IDS_FILE,
    );
    expect(functions).toHaveLength(1);
    const { Code, Environment } = functions[0].Properties;
    expect(Environment.Variables.USER_POOL_IDS).toBeUndefined();
    const assetDir = path.join(assembly.directory, `asset.${String(Code.S3Key).replace(/\.zip$/, '')}`);
    for (const id of ids) world.cognito.pools.set(id, id.endsWith('149') ? [makeJob(1, 'Failed', { CompletionDate: new Date() })] : []);

    const run = await world.invoke(
      undefined,
      { USER_POOL_IDS_FILE: Environment.Variables.USER_POOL_IDS_FILE, MONITOR_NAME: Environment.Variables.MONITOR_NAME, COGNITO_REQUESTS_PER_SECOND: '1000' },
      { bundle: path.join(assetDir, 'index.js') },
    );
    expect(summaryOf(run)).toMatchObject({ pools: 150, ran: 150, failed: [] });
    expect(Object.fromEntries(ids.map((id) => [id, listed(id)]))).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    expect(completed(run, 'eu-west-1_Long149', 'Failed')).toBe(1);
  });
});
