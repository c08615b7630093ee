/**
 * Runs the bundled handler, as shipped, in its own process against loopback servers speaking the real
 * wire protocols: Cognito's JSON 1.1 API (test/support/fake-cognito.ts) and DynamoDB (dynalite).
 */
import * as fs from 'fs';
import { INTERNAL_ERROR, NOT_AUTHORIZED, THROTTLED, makeJob } from './support/fake-cognito';
import { Invocation, Loopback, BUNDLE } from './support/loopback';
import { datapoints, sumOf } from './support/emf';

const POOL = 'eu-west-1_E2e123';
const world = new Loopback();

beforeAll(async () => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`no bundle at ${BUNDLE}: run "npm run build" first`);
  await world.start();
});
afterAll(() => world.stop());

const completed = (run: Invocation, status: string, pool = POOL) =>
  sumOf(run.emf, `JobsCompleted{UserPoolId=${pool},Status=${status}}`);
const gauge = (run: Invocation, status: string, pool = POOL) => sumOf(run.emf, `Jobs{UserPoolId=${pool},Status=${status}}`);
const imported = (run: Invocation, pool = POOL) => sumOf(run.emf, `ImportedUsers{UserPoolId=${pool}}`);

function expectSuccess(run: Invocation): void {
  if (run.exitCode !== 0) throw new Error(`handler failed:\n${run.stderr}\n${JSON.stringify(run.logs, null, 1)}`);
}

describe('the bundled handler', () => {
  it('counts each transition once over several runs, paging and throttled', async () => {
    const longAgo = new Date(Date.now() - 86_400_000);
    const jobs = Array.from({ length: 137 }, (_, i) => makeJob(i, 'Succeeded', { CompletionDate: longAgo, ImportedUsers: 10 }));
    jobs.push(makeJob(200, 'InProgress', { ImportedUsers: 5 }), makeJob(201, 'Created'));
    jobs.push(makeJob(202, 'Failed', { CompletionDate: new Date(), ImportedUsers: 1, FailedUsers: 4 }));
    world.cognito.pools.set(POOL, jobs);

    // First run: 137 old jobs are history; the job that failed a moment ago pages.
    const first = await world.invoke(POOL);
    expectSuccess(first);
    expect(gauge(first, 'Succeeded')).toBe(137);
    expect(gauge(first, 'InProgress')).toBe(1);
    expect(completed(first, 'Succeeded')).toBe(0);
    expect(completed(first, 'Failed')).toBe(1);
    expect(imported(first)).toBe(6);
    expect(datapoints(first.emf)).toHaveLength(15);
    const listCalls = world.cognito.requests.filter((r) => r.body.UserPoolId === POOL);
    expect(listCalls).toHaveLength(3);
    expect(listCalls.every((r) => r.body.MaxResults === 60)).toBe(true);
    const state = await world.state();
    expect(state.get(`${POOL}|import-0000000200`)).toMatchObject({ Status: 'InProgress', ImportedUsers: 5, Version: 1 });
    expect(state.has(`${POOL}|#pool`)).toBe(true);

    // Second run, through throttling and a server error: the running job fails, the created one expires.
    jobs[137] = makeJob(200, 'Failed', { CompletionDate: new Date(), ImportedUsers: 30, FailedUsers: 2, CompletionMessage: 'Bad CSV header' });
    jobs[138] = makeJob(201, 'Expired', { CompletionDate: new Date() });
    world.cognito.failNext(THROTTLED, INTERNAL_ERROR, THROTTLED);
    const requestsBefore = world.cognito.requests.length;
    const second = await world.invoke(POOL);
    expectSuccess(second);
    expect(world.cognito.requests.length - requestsBefore).toBe(3 + 3); // three pages, three retries
    expect(completed(second, 'Failed')).toBe(1);
    expect(completed(second, 'Expired')).toBe(1);
    expect(imported(second)).toBe(25);
    expect(sumOf(second.emf, `FailedUsers{UserPoolId=${POOL}}`)).toBe(2);
    const transition = second.logs.find((l) => l.message === 'Import job completed' && l.jobId === 'import-0000000200');
    expect(transition).toMatchObject({
      level: 'INFO',
      userPoolId: POOL,
      jobName: 'job-200',
      previousStatus: 'InProgress',
      status: 'Failed',
      importedUsers: 30,
      failedUsers: 2,
      completionMessage: 'Bad CSV header',
    });
    expect(second.logs.filter((l) => l.message === 'Run summary')).toHaveLength(1);

    // Third run: nothing new, so nothing counted, and the gauges still published.
    const third = await world.invoke(POOL);
    expectSuccess(third);
    expect(completed(third, 'Failed') + completed(third, 'Expired') + imported(third)).toBe(0);
    expect(gauge(third, 'Failed')).toBe(2);
  });

  it('counts a transition once when two runs overlap', async () => {
    const pool = 'eu-west-1_Overlap1';
    const jobs = Array.from({ length: 40 }, (_, i) => makeJob(i, 'InProgress'));
    world.cognito.pools.set(pool, jobs);
    expectSuccess(await world.invoke(pool));
    for (let i = 0; i < jobs.length; i++) jobs[i] = makeJob(i, 'Succeeded', { CompletionDate: new Date(), ImportedUsers: 3 });
    const runs = await Promise.all([world.invoke(pool), world.invoke(pool), world.invoke(pool)]);
    runs.forEach(expectSuccess);
    expect(runs.reduce((sum, r) => sum + completed(r, 'Succeeded', pool), 0)).toBe(40);
    expect(runs.reduce((sum, r) => sum + imported(r, pool), 0)).toBe(120);
  });

  it('counts a change once when the answer to its write was lost and the SDK retried it', async () => {
    const pool = 'eu-west-1_Lost1';
    const jobs = [makeJob(1, 'InProgress')];
    world.cognito.pools.set(pool, jobs);
    expectSuccess(await world.invoke(pool));
    jobs[0] = makeJob(1, 'Failed', { CompletionDate: new Date(), ImportedUsers: 9 });
    world.losePutAnswers = 1;
    const run = await world.invoke(pool);
    expectSuccess(run);
    expect(world.losePutAnswers).toBe(0);
    expect(completed(run, 'Failed', pool)).toBe(1);
    expect(imported(run, pool)).toBe(9);
    const again = await world.invoke(pool);
    expect(completed(again, 'Failed', pool)).toBe(0);
  });

  it.each([
    ['ResourceNotFoundException', 'eu-west-1_Missing1', undefined],
    ['NotAuthorizedException', POOL, NOT_AUTHORIZED],
  ])('fails the run on %s, logging the pool and the cause, publishing and storing nothing', async (cause, pool, inject) => {
    const before = await world.state();
    if (inject) world.cognito.failNext(inject);
    const run = await world.invoke(pool);
    expect(run.exitCode).toBe(1);
    expect(run.emf).toEqual([]);
    expect(run.logs).toContainEqual(
      expect.objectContaining({ level: 'ERROR', message: 'Run failed', userPoolId: pool, error: expect.objectContaining({ name: cause }) }),
    );
    expect(await world.state()).toEqual(before);
  });

  it('fails the run when the pagination token repeats, storing nothing', async () => {
    const pool = 'eu-west-1_Loop1';
    world.cognito.pools.set(pool, Array.from({ length: 120 }, (_, i) => makeJob(i, 'Failed')));
    world.cognito.tokenOverride = () => 'c2FtZQ==';
    try {
      const run = await world.invoke(pool);
      expect(run.exitCode).toBe(1);
      expect(run.emf).toEqual([]);
      expect(run.logs).toContainEqual(expect.objectContaining({ error: expect.objectContaining({ name: 'IncompleteListingError' }) }));
      expect([...(await world.state()).keys()].filter((k) => k.startsWith(pool))).toEqual([]);
    } finally {
      world.cognito.tokenOverride = undefined;
    }
  });

  it('fails with a clear message when its configuration is bad', async () => {
    const run = await world.invoke('not-a-pool');
    expect(run.exitCode).toBe(1);
    expect(run.logs).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        error: expect.objectContaining({ message: 'USER_POOL_ID must be a user pool ID such as eu-west-1_AbC123, got "not-a-pool"' }),
      }),
    );
  });
});
