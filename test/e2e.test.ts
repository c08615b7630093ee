/**
 * Runs the bundled handler, as shipped, in its own process against loopback servers speaking the real
 * wire protocols: Cognito's JSON 1.1 API (test/support/fake-cognito.ts) and DynamoDB (dynalite).
 */
import * as fs from 'fs';
import * as net from 'net';
import { INTERNAL_ERROR, NOT_AUTHORIZED, THROTTLED, makeJob } from './support/fake-cognito';
import { BUS_ARN, Invocation, loopbackForSuite } from './support/loopback';
import { datapoints, heartbeatsOf, sumOf, withoutHeartbeat } from './support/emf';
import { traceJobEnd } from './support/cadence';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { owedOn, storedJobState } from './support/dynamo-requests';
import { bucketOf, itemOfJob } from '../lambda/state-store';

const POOL = 'eu-west-1_E2e123';
// A pool's jobs spread over 16 buckets from the start, as a pool past what one item holds.
const IN_BUCKETS = { STATE_SINGLE_ITEM_BYTES: '0' };
const world = loopbackForSuite();

const completed = (run: Invocation, status: string, pool = POOL) =>
  sumOf(run.emf, `JobsCompleted{UserPoolId=${pool},Status=${status}}`);
const gauge = (run: Invocation, status: string, pool = POOL) => sumOf(run.emf, `Jobs{UserPoolId=${pool},Status=${status}}`);
const imported = (run: Invocation, pool = POOL) => sumOf(run.emf, `ImportedUsers{UserPoolId=${pool}}`);
const COMPLETED = ['Succeeded', 'Failed', 'Stopped', 'Expired'];

/** The ListUserImportJobs requests Cognito received for a pool. */
const listings = (pool: string) =>
  world.cognito.requests.filter((r) => r.target.endsWith('.ListUserImportJobs') && r.body.UserPoolId === pool);

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
    // POOL is also the one a failing run is tried on in this file: only this test's listings count.
    const listedBefore = listings(POOL).length;

    // First run: 137 old jobs are history; the job that failed a moment ago pages.
    const first = await world.invoke(POOL);
    expectSuccess(first);
    // A gauge of an ended status is not published: it never falls back to zero, and nothing reads it.
    expect(gauge(first, 'Succeeded')).toBe(0);
    expect(gauge(first, 'InProgress')).toBe(1);
    expect(completed(first, 'Succeeded')).toBe(0);
    expect(completed(first, 'Failed')).toBe(1);
    expect(imported(first)).toBe(6);
    // Only news (the warning gauges: the deployment's run publishes their zeros) and the heartbeat: 8 of the 19. A
    // single pool's alarms on counts need no zeros: they treat missing data as not breaching.
    expect(datapoints(first.emf)).toHaveLength(8);
    expect(sumOf(first.emf, `Heartbeat{UserPoolId=${POOL}}`)).toBe(1);
    const listCalls = listings(POOL).slice(listedBefore);
    expect(listCalls).toHaveLength(3);
    expect(listCalls.map((r) => r.body.MaxResults)).toEqual([60, 60, 60]);
    const state = await world.state();
    expect(storedJobState(state, POOL, 'import-0000000200')).toEqual({ status: 'InProgress', importedUsers: 5, skippedUsers: 0, failedUsers: 0 });
    expect(state.get(`${POOL}|${itemOfJob(state.get(`${POOL}|#jobs#00`), 'import-0000000200')}`)).toMatchObject({ Version: 1 });
    expect([...state.keys()]).toContain(`${POOL}|#pool`);

    // Second run, through throttling and a server error: the running job fails, the created one expires.
    jobs[137] = makeJob(200, 'Failed', { CompletionDate: new Date(), ImportedUsers: 30, FailedUsers: 2, CompletionMessage: 'Bad CSV header' });
    jobs[138] = makeJob(201, 'Expired', { CompletionDate: new Date() });
    world.cognito.failNext(THROTTLED, INTERNAL_ERROR, THROTTLED);
    const requestsBefore = listings(POOL).length;
    world.eventBridge.reset();
    const second = await world.invoke(POOL);
    expectSuccess(second);
    expect(listings(POOL).length - requestsBefore).toBe(3 + 3); // three pages, three retries
    // Each transition went to the bus, once, with the pool's name in the job's import log group.
    expect(world.eventBridge.events.map((e) => [e.bus, e.source, e.detailType, e.detail.eventKey, e.detail.previousStatus])).toEqual([
      [BUS_ARN, 'import-job-monitor', 'Cognito User Import Job State Change', `${POOL}/import-0000000200/Failed`, 'InProgress'],
      [BUS_ARN, 'import-job-monitor', 'Cognito User Import Job State Change', `${POOL}/import-0000000201/Expired`, 'Created'],
    ]);
    expect(world.eventBridge.events[0].detail).toMatchObject({
      completionMessage: 'Bad CSV header',
      importLog: { logGroupName: `/aws/cognito/userpools/${POOL}/pool-E2e123`, logStreamName: 'import-0000000200/job-200' },
    });
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

    // Third run: nothing new, so nothing counted (and no gauge of an ended status published).
    const third = await world.invoke(POOL);
    expectSuccess(third);
    expect(completed(third, 'Failed') + completed(third, 'Expired') + imported(third)).toBe(0);
    expect(gauge(third, 'Failed')).toBe(0);
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
    world.loseAnswers.UpdateItem = 1;
    const run = await world.invoke(pool);
    expectSuccess(run);
    expect(world.loseAnswers.UpdateItem).toBe(0);
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
    // Nothing but the tick's heartbeat, 0: the run failed.
    expect(withoutHeartbeat(run.emf)).toEqual([]);
    expect(heartbeatsOf(run.emf)).toEqual([0]);
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
      // Nothing but the tick's heartbeat, 0: the run failed.
    expect(withoutHeartbeat(run.emf)).toEqual([]);
    expect(heartbeatsOf(run.emf)).toEqual([0]);
      expect(run.logs).toContainEqual(expect.objectContaining({ error: expect.objectContaining({ name: 'IncompleteListingError' }) }));
      expect([...(await world.state()).keys()].filter((k) => k.startsWith(pool))).toEqual([]);
    } finally {
      world.cognito.tokenOverride = undefined;
    }
  });

  it('leaves out a job whose count comes as a string over the wire, names it, and counts the rest once, run after run', async () => {
    const pool = 'eu-west-1_Malformed1';
    const jobs = [makeJob(1, 'InProgress'), makeJob(2, 'InProgress')];
    world.cognito.pools.set(pool, jobs);
    expect((await world.invoke(pool)).exitCode).toBe(0);
    const now = new Date();
    jobs[0] = makeJob(1, 'Succeeded', { CompletionDate: now, ImportedUsers: '12' as unknown as number });
    jobs[1] = makeJob(2, 'Failed', { CompletionDate: now, ImportedUsers: 7 });
    const runs = [await world.invoke(pool), await world.invoke(pool, {}, { clockOffsetMs: 20 * 60_000 })];
    for (const run of runs) {
      expect(run.exitCode).toBe(0);
      expect(heartbeatsOf(run.emf)).toEqual([1]);
      expect(sumOf(run.emf, `InvalidJobs{UserPoolId=${pool}}`)).toBe(1);
      expect(run.logs.filter((l) => l.message.startsWith('Job left out'))).toEqual([
        expect.objectContaining({ jobId: '"import-0000000001"', problems: ['ImportedUsers is not a count from 0 to 2^53-1: "12"'] }),
      ]);
    }
    // The valid job's end, once; the string never concatenated into a count.
    expect(runs.map((run) => completed(run, 'Failed', pool))).toEqual([1, 0]);
    expect(runs.map((run) => imported(run, pool))).toEqual([7, 0]);
    expect(runs.map((run) => completed(run, 'Succeeded', pool))).toEqual([0, 0]);
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

/** The handler's DynamoDB requests from `from` on, by operation. */
function requestsSince(from: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { operation } of world.dynamoLog.slice(from)) counts[operation] = (counts[operation] ?? 0) + 1;
  return counts;
}

const LAYOUTS = [
  // One item: a write and a clear per run that stores changes.
  { layout: 'one item', env: {}, itemsOf: (jobIds: readonly string[]) => Math.min(jobIds.length, 1), split: 0 },
  // 16 buckets: a write and a clear per bucket holding a change; a first run writes the first bucket's item first (S).
  { layout: '16 buckets', env: IN_BUCKETS, itemsOf: (jobIds: readonly string[]) => new Set(jobIds.map(bucketOf)).size, split: 1 },
];

describe.each(LAYOUTS)('requests per run (docs/how-it-counts.md, Requests per run), in $layout', ({ layout, env, itemsOf: bucketsOf, split }) => {
  it('makes as many DynamoDB requests as the formula says: a write and a clear per item, not per change', async () => {
    const pool = `eu-west-1_Requests${split}`;
    const longAgo = new Date(Date.now() - 86_400_000);
    // 240 jobs: old completions (history, owing nothing) and running ones with users (owing their counts).
    const jobs = Array.from({ length: 240 }, (_, i) =>
      i % 4 === 0 ? makeJob(i, 'InProgress', { ImportedUsers: i + 1 }) : makeJob(i, 'Succeeded', { CompletionDate: longAgo, ImportedUsers: i }),
    );
    world.cognito.pools.set(pool, jobs);
    const ids = jobs.map((job) => job.JobId);
    const running = ids.filter((_, i) => i % 4 === 0);

    // First run: Query + 2 marker puts + a write per item holding a job + a clear per item whose write owes + PutItem.
    let from = world.dynamoLog.length;
    expectSuccess(await world.invoke(pool, env));
    expect(requestsSince(from)).toEqual({ Query: 1, PutItem: 2 + 1, UpdateItem: split + bucketsOf(ids) + bucketsOf(running) });
    expect(bucketsOf(ids)).toBe(layout === 'one item' ? 1 : 16);

    // Steady: Query + PutItem, whatever the pool's size.
    from = world.dynamoLog.length;
    expectSuccess(await world.invoke(pool, env));
    expect(requestsSince(from)).toEqual({ Query: 1, PutItem: 1 });

    // A tenth changed: 24 jobs end: a write and a clear per item with a change.
    const changed: string[] = [];
    for (let i = 0; i < jobs.length; i += 10) {
      if (i % 4 !== 0) continue;
      jobs[i] = makeJob(i, 'Succeeded', { CompletionDate: new Date(), ImportedUsers: i + 5 });
      changed.push(jobs[i].JobId);
    }
    from = world.dynamoLog.length;
    const run = await world.invoke(pool, env);
    expectSuccess(run);
    expect(run.logs.find((l) => l.message === 'Run summary')).toMatchObject({ changesStored: changed.length, owedPublished: changed.length });
    expect(requestsSince(from)).toEqual({ Query: 1, PutItem: 1, UpdateItem: 2 * bucketsOf(changed) });

    // A scheduled tick adds its GetItem of the due time (and one that is not due stops there).
    from = world.dynamoLog.length;
    expectSuccess(await world.invoke(pool, { ...env, TEST_EVENT: JSON.stringify({ source: 'aws.events', 'detail-type': 'Scheduled Event' }) }));
    expect(requestsSince(from)).toEqual({ GetItem: 1 });
  });
});

describe('a table of 0.1.0 (one item per job)', () => {
  it('is read as stored state: no job counted twice, what it owed paid once, its items replaced by buckets', async () => {
    const pool = 'eu-west-1_Legacy1';
    const seeder = DynamoDBDocumentClient.from(
      new DynamoDBClient({ region: 'eu-west-1', endpoint: world.dynamoEndpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    );
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const owedEvent = { eventKey: `${pool}/import-0000000002/Succeeded`, userPoolId: pool, jobId: 'import-0000000002', previousStatus: 'InProgress', status: 'Succeeded', importedUsers: 50, skippedUsers: 0, failedUsers: 0 };
    const legacy = [
      { JobId: '#pool', HistoryBefore: past, FirstRunCompletedAt: past, WriteId: 'w0' },
      { JobId: 'import-0000000001', Status: 'InProgress', ImportedUsers: 10, SkippedUsers: 0, FailedUsers: 0, Version: 2, WriteId: 'w1' },
      // Stored by a run of 0.1.0 killed before it published: its entry is owed, its lease long over.
      {
        JobId: 'import-0000000002', Status: 'Succeeded', ImportedUsers: 50, SkippedUsers: 0, FailedUsers: 0, Version: 3, WriteId: 'w2',
        Owed_3: { Token: 'w2', LeaseUntil: past, At: past, Counts: { Completed: 'Succeeded', ImportedUsers: 40, SkippedUsers: 0, FailedUsers: 0 }, Event: JSON.stringify(owedEvent) },
      },
      { JobId: 'import-0000000003', Status: 'Created', ImportedUsers: 0, SkippedUsers: 0, FailedUsers: 0, Version: 1, WriteId: 'w3' },
    ];
    for (const item of legacy) await seeder.send(new PutCommand({ TableName: world.tableName, Item: { UserPoolId: pool, ...item } }));
    seeder.destroy();
    const jobs = [
      makeJob(1, 'Failed', { CompletionDate: new Date(), ImportedUsers: 30 }),
      makeJob(2, 'Succeeded', { ImportedUsers: 50 }),
      makeJob(3, 'Created'),
    ];
    world.cognito.pools.set(pool, jobs);
    const eventsBefore = world.eventBridge.events.length;

    const first = await world.invoke(pool);
    expectSuccess(first);
    // Job 1 changed since 0.1.0 stored it: counted once, from its stored state. Job 2's entry: paid, once.
    expect(completed(first, 'Failed', pool)).toBe(1);
    expect(completed(first, 'Succeeded', pool)).toBe(1);
    expect(imported(first, pool)).toBe(20 + 40);
    expect(first.logs.find((l) => l.message === 'Run summary')).toMatchObject({ firstRun: false, changesStored: 1, leftoversPublished: 1, stillOwed: 0 });
    let state = await world.state();
    const items = (prefix: string) => [...state.keys()].filter((key) => key.startsWith(`${pool}|${prefix}`)).sort();
    // Jobs 1 and 3 are in the pool's one item, their old items gone; job 2's stays until a run finds it owing nothing.
    expect(items('import-')).toEqual([`${pool}|import-0000000002`]);
    expect(items('#jobs#')).toEqual([`${pool}|#jobs#00`]);
    expect([...state.values()].filter((item) => item.UserPoolId === pool).flatMap(owedOn)).toEqual([]);

    const second = await world.invoke(pool);
    expectSuccess(second);
    expect(COMPLETED.map((status) => completed(second, status, pool))).toEqual([0, 0, 0, 0]);
    expect(imported(second, pool)).toBe(0);
    state = await world.state();
    expect(items('import-')).toEqual([]);
    expect(jobs.map((job) => storedJobState(state, pool, job.JobId))).toEqual([
      { status: 'Failed', importedUsers: 30, skippedUsers: 0, failedUsers: 0 },
      { status: 'Succeeded', importedUsers: 50, skippedUsers: 0, failedUsers: 0 },
      { status: 'Created', importedUsers: 0, skippedUsers: 0, failedUsers: 0 },
    ]);

    // The job stored by 0.1.0 only moves on from there.
    jobs[2] = makeJob(3, 'Expired', { CompletionDate: new Date() });
    const third = await world.invoke(pool);
    expectSuccess(third);
    expect(completed(third, 'Expired', pool)).toBe(1);
    const sent = world.eventBridge.events.slice(eventsBefore).map((e) => e.detail.eventKey).sort();
    expect(sent).toEqual([`${pool}/import-0000000001/Failed`, `${pool}/import-0000000002/Succeeded`, `${pool}/import-0000000003/Expired`]);
  });
});

describe('the bundled handler, in another region than its pool', () => {
  it("calls Cognito in the pool's region and DynamoDB in its own", async () => {
    const pool = 'eu-west-1_Region1';
    world.cognito.pools.set(pool, [makeJob(1, 'Succeeded', { CompletionDate: new Date() })]);
    const dynamoBefore = world.dynamoLog.length;
    const run = await world.invoke(pool, { AWS_REGION: 'us-east-1' });
    expectSuccess(run);
    expect(completed(run, 'Succeeded', pool)).toBe(1);
    const regions = listings(pool).map((r) => r.region);
    expect(regions).toEqual(['eu-west-1']);
    const dynamoRegions = new Set(world.dynamoLog.slice(dynamoBefore).map((r) => r.region));
    expect([...dynamoRegions]).toEqual(['us-east-1']);
  });
});

/** The ERROR line a failed run logs last. */
function runFailed(run: Invocation): Record<string, any> {
  if (run.exitCode !== 1) throw new Error(`expected the run to fail, got exit code ${run.exitCode}:\n${run.stderr}`);
  const line = run.logs.find((l) => l.message === 'Run failed');
  if (!line) throw new Error(`no "Run failed" line in ${JSON.stringify(run.logs, null, 1)}`);
  return line;
}

// Measured durations go to this file, for the record (tests assert only generous bounds).
const durations: Record<string, number> = {};
afterAll(() => {
  if (process.env.E2E_DURATIONS) fs.writeFileSync(process.env.E2E_DURATIONS, JSON.stringify(durations, null, 1));
});

describe('the bundled handler, against endpoints that hang or are gone', () => {
  // The function has 7.5 s left when called, so its deadline is in 2.5 s (the handler keeps 5 s to log).
  const SHORT_LAMBDA = { TEST_TIMEOUT_MS: '7500' };
  const KILL = { killAfterMs: 40_000 };

  it("fails at the run's deadline when Cognito accepts the connection and never answers, naming the call", async () => {
    const pool = 'eu-west-1_Hang1';
    world.cognito.pools.set(pool, [makeJob(1, 'Created')]);
    world.cognito.hang = true;
    const run = await world.invoke(pool, SHORT_LAMBDA, KILL);
    durations.cognitoHangsWithContext = run.wallMs;
    const line = runFailed(run);
    expect(line).toMatchObject({
      level: 'ERROR',
      userPoolId: pool,
      error: {
        name: 'AbortError',
        operation: 'ListUserImportJobs page 1',
        userPoolId: pool,
        deadline: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        message: expect.stringMatching(
          new RegExp(`^ListUserImportJobs page 1 for user pool ${pool} was cut off by the run's deadline, \\S+ \\(5 s before the function's timeout\\)`),
        ),
      },
    });
    expect(run.wallMs).toBeLessThan(7_500);
    // Nothing but the tick's heartbeat, 0: the run failed.
    expect(withoutHeartbeat(run.emf)).toEqual([]);
    expect(heartbeatsOf(run.emf)).toEqual([0]);
  });

  it('gives up by itself, after its timeouts and retries, when Cognito hangs and there is no deadline', async () => {
    const pool = 'eu-west-1_Hang2';
    world.cognito.pools.set(pool, [makeJob(1, 'Created')]);
    world.cognito.hang = true;
    const run = await world.invoke(pool, { TEST_NO_CONTEXT: '1', AWS_MAX_ATTEMPTS: '2' }, KILL);
    durations.cognitoHangsWithoutContext = run.wallMs;
    const { error } = runFailed(run);
    expect(error).toMatchObject({
      name: 'TimeoutError',
      operation: 'ListUserImportJobs page 1',
      message: expect.stringMatching(new RegExp(`^ListUserImportJobs page 1 for user pool ${pool} failed after 2 attempts: TimeoutError`)),
      cause: { name: 'TimeoutError', $metadata: expect.objectContaining({ attempts: 2 }) },
    });
    expect(error.deadline).toBeUndefined();
    expect(listings(pool)).toHaveLength(2);
    expect(run.wallMs).toBeLessThan(20_000);
  });

  it('fails naming the DynamoDB call when DynamoDB accepts the connection and never answers', async () => {
    const pool = 'eu-west-1_Hang3';
    world.cognito.pools.set(pool, [makeJob(1, 'Created')]);
    world.hangDynamo.add('Query');
    const run = await world.invoke(pool, SHORT_LAMBDA, KILL);
    durations.dynamoHangsWithContext = run.wallMs;
    expect(runFailed(run).error).toMatchObject({
      name: 'AbortError',
      operation: 'Query state page 1',
      message: expect.stringContaining(`Query state page 1 for user pool ${pool} was cut off by the run's deadline`),
    });
  });

  it('names each write that hung, stores nothing, and lets the next run count the change once', async () => {
    const pool = 'eu-west-1_Hang4';
    const jobs = [makeJob(1, 'InProgress'), makeJob(2, 'InProgress')];
    world.cognito.pools.set(pool, jobs);
    expectSuccess(await world.invoke(pool, IN_BUCKETS));
    jobs[0] = makeJob(1, 'Failed', { CompletionDate: new Date(), ImportedUsers: 4 });
    jobs[1] = makeJob(2, 'Succeeded', { CompletionDate: new Date(), ImportedUsers: 6 });
    world.hangDynamo.add('UpdateItem');
    const run = await world.invoke(pool, { ...SHORT_LAMBDA, ...IN_BUCKETS }, KILL);
    const { error } = runFailed(run);
    expect(error.name).toBe('AggregateError');
    expect(error.message).toMatch(
      new RegExp(
        `^could not store 2 of 2 job changes for user pool ${pool} \\(first: UpdateItem bucket #jobs#(00|09) \\(jobs import-000000000[12]\\) ` +
          `for user pool ${pool} was cut off by the run's deadline`,
      ),
    );
    // Jobs 1 and 2 live in two buckets: two writes hung, each named with its bucket and job.
    const writes = run.logs.filter((l) => l.message.startsWith('Could not store a job change'));
    expect(writes.map((l) => [l.jobId, l.error.operation, l.error.name]).sort()).toEqual([
      ['import-0000000001', 'UpdateItem bucket #jobs#00 (jobs import-0000000001)', 'AbortError'],
      ['import-0000000002', 'UpdateItem bucket #jobs#09 (jobs import-0000000002)', 'AbortError'],
    ]);
    expect(completed(run, 'Failed', pool) + completed(run, 'Succeeded', pool)).toBe(0);

    world.release();
    const next = await world.invoke(pool, IN_BUCKETS);
    expectSuccess(next);
    expect(completed(next, 'Failed', pool)).toBe(1);
    expect(completed(next, 'Succeeded', pool)).toBe(1);
    expect(imported(next, pool)).toBe(10);
  });

  it('retries a dead endpoint (connection refused) for a few seconds, then fails naming the call', async () => {
    const endpoint = `http://127.0.0.1:${await refusedPort()}`;
    const pool = 'eu-west-1_Dead1';
    const run = await world.invoke(pool, { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoint }, KILL);
    durations.cognitoRefusesConnections = run.wallMs;
    const { error } = runFailed(run);
    expect(error).toMatchObject({
      operation: 'ListUserImportJobs page 1',
      userPoolId: pool,
      message: expect.stringContaining('ECONNREFUSED'),
      cause: { code: 'ECONNREFUSED' },
    });
    // Every attempt the handler allows, each after a back-off: a few seconds in all (2 to 5 s measured), not
    // the 46 s a hung endpoint may take. The bound below only guards against a run that waits for timeouts.
    expect(error.cause.$metadata.attempts).toBe(8);
    expect(run.wallMs).toBeLessThan(15_000);
  });

  it('publishes a job\'s end within one active interval while it runs, then waits for the schedule', async () => {
    const pool = 'eu-west-1_Cadence1';
    // An 8 s interval: a tick counts as due 4 s early, so the second tick, a process start after the first run,
    // is surely not due even on a slow machine running other suites beside this one (with 4 s, it sometimes was).
    const trace = await traceJobEnd(world, pool, 8, 300);
    durations.jobEndToMetricWithEightSecondActiveInterval = trace.latencyMs;
    expectSuccess(trace.first);
    expect(trace.first.emf.length).toBeGreaterThan(0);
    // Right after a run, the pool is not due: the tick reads the due time and does nothing else.
    expect(withoutHeartbeat(trace.second.emf)).toEqual([]);
    expect(heartbeatsOf(trace.second.emf)).toEqual([1]);
    expect(trace.skippedTicks).toBeGreaterThan(0);
    // A bound for sanity only (the interval is 8 s; each tick starts a Node.js process): the figure is recorded.
    expect(trace.latencyMs).toBeLessThan(20_000);
    // Nothing is unfinished now: the next tick waits for the five-minute schedule.
    expect(trace.after.exitCode).toBe(0);
    expect(withoutHeartbeat(trace.after.emf)).toEqual([]);
    expect(heartbeatsOf(trace.after.emf)).toEqual([1]);
    expect(listings(pool)).toHaveLength(2); // the first run and the one that published the end: no tick in between listed
  });
});

/**
 * A loopback port that refuses connections and stays so: one below 1024, which `listen(0)` never hands out. A port
 * closed after `listen(0)` is not enough: during the run's retries another suite's server may be given it.
 */
async function refusedPort(): Promise<number> {
  for (let port = 1; port < 1024; port++) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return port;
  }
  throw new Error('no loopback port below 1024 refuses connections');
}
