/**
 * Never lose a count: the bundled handler, in its own process, against the loopback servers, killed (SIGKILL) at
 * each step of a run. What a run stored is owed until it is published, whatever the run believed; a duplicate needs
 * the run to end between publishing and clearing. Randomized DynamoDB faults and kills, per key: e2e-faults.test.ts.
 */
import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor } from '../lib';
import { makeJob, FakeJob } from './support/fake-cognito';
import { PutEventsFate } from './support/fake-eventbridge';
import { DynamoFault, Invocation, loopbackForSuite } from './support/loopback';
import { sumOf } from './support/emf';
import { describeDynamoRequest } from './support/dynamo-requests';
import { bucketOf } from '../lambda/state-store';

const world = loopbackForSuite();
// A pool's jobs spread over 16 buckets from the start, as a pool past what one item holds.
const IN_BUCKETS = { STATE_SINGLE_ITEM_BYTES: '0' };

// A run's lease is its function's end: TEST_TIMEOUT_MS (60 s by default) after it starts. The next run comes
// after it, as the next tick after a killed run would, with its clock moved on.
const AFTER_LEASE_MS = 120_000;

interface Totals {
  completed: Record<string, number>;
  imported: number;
  events: Map<string, number>;
}

function totals(pool: string, runs: Invocation[]): Totals {
  const completed: Record<string, number> = {};
  for (const status of ['Succeeded', 'Failed', 'Expired', 'Stopped']) {
    completed[status] = runs.reduce((sum, run) => sum + sumOf(run.emf, `JobsCompleted{UserPoolId=${pool},Status=${status}}`), 0);
  }
  return {
    completed,
    imported: runs.reduce((sum, run) => sum + sumOf(run.emf, `ImportedUsers{UserPoolId=${pool}}`), 0),
    events: world.eventBridge.deliveries(pool),
  };
}

/** Three jobs under way, stored by a first run; then each ends. */
async function threeJobsEnd(pool: string, env: Record<string, string> = {}): Promise<void> {
  const jobs: FakeJob[] = [makeJob(1, 'InProgress'), makeJob(2, 'Created'), makeJob(3, 'InProgress')];
  world.cognito.pools.set(pool, jobs);
  const first = await world.invoke(pool, env);
  if (first.exitCode !== 0) throw new Error(first.stderr);
  const now = new Date();
  jobs[0] = makeJob(1, 'Failed', { CompletionDate: now, ImportedUsers: 30, FailedUsers: 2, CompletionMessage: 'Bad CSV header' });
  jobs[1] = makeJob(2, 'Expired', { CompletionDate: now });
  jobs[2] = makeJob(3, 'Succeeded', { CompletionDate: now, ImportedUsers: 8499 });
}

const EXACT = { Succeeded: 1, Failed: 1, Expired: 1, Stopped: 0 };

function keys(pool: string): string[] {
  return [`${pool}/import-0000000001/Failed`, `${pool}/import-0000000002/Expired`, `${pool}/import-0000000003/Succeeded`];
}

// A bucket's write of its jobs' changes, and the clear of a write's entries once published (test/support/dynamo-requests.ts).
const isStore = (operation: string, body: Record<string, any>) => describeDynamoRequest(operation, body).step === 'store';
const isClear = (operation: string, body: Record<string, any>) => describeDynamoRequest(operation, body).step === 'clear';

interface KillPoint {
  /** Where the run is killed. */
  readonly name: string;
  readonly arm: () => void;
  /** Whether the run had published before it was killed (so the next run may publish again). */
  readonly published: 'nothing' | 'events' | 'events and metrics';
}

/** Kills the run on the first request that `matches`, the request then landing (or not) as `fault` says. */
function killOnDynamo(matches: (operation: string, body: Record<string, any>) => boolean, fault: DynamoFault): () => void {
  return () => {
    let armed = true;
    world.dynamoFault = (operation, body) => {
      if (!armed || !matches(operation, body)) return undefined;
      armed = false;
      world.kill();
      return fault;
    };
  };
}

function killOnPutEvents(fate: PutEventsFate): () => void {
  return () => {
    world.eventBridge.fate = () => {
      world.eventBridge.fate = undefined;
      world.kill();
      return fate;
    };
  };
}

const KILL_POINTS: KillPoint[] = [
  { name: 'once its first change is stored, before the others', arm: killOnDynamo(isStore, undefined), published: 'nothing' },
  { name: 'while sending the events, before the bus takes them', arm: killOnPutEvents('drop'), published: 'nothing' },
  { name: 'after the bus took the events, before its answer', arm: killOnPutEvents('accept-then-drop'), published: 'events' },
  { name: 'at its first clear, after publishing', arm: killOnDynamo(isClear, 'fail'), published: 'events and metrics' },
  { name: 'after clearing, before writing when the pool is next due', arm: killOnDynamo((op) => op === 'PutItem', undefined), published: 'nothing' },
];

// The three jobs in one item (a write stores them all), or in three buckets (the kill at the first store comes before the others').
describe.each([
  ['one item', {}, 'One'],
  ['16 buckets', IN_BUCKETS, 'Buckets'],
])('a run killed (SIGKILL), in %s', (_layout, env, suffix) => {
  it.each(KILL_POINTS.map((point, i) => [point.name, point, i]))('%s loses nothing', async (_name, point, i) => {
    const { arm, published } = point as KillPoint;
    const pool = `eu-west-1_Kill${i}${suffix}`;
    await threeJobsEnd(pool, env);
    arm();
    const killed = await world.invoke(pool, env);
    expect(killed.exitCode).not.toBe(0);
    world.release();

    const next = await world.invoke(pool, env, { clockOffsetMs: AFTER_LEASE_MS });
    expect(next.exitCode).toBe(0);
    const after = await world.invoke(pool, env, { clockOffsetMs: 2 * AFTER_LEASE_MS });
    expect(after.exitCode).toBe(0);

    const got = totals(pool, [killed, next, after]);
    const state = await world.state();
    const owed = [...state.values()].filter((item) => item.UserPoolId === pool && Object.keys(item).some((k) => k.startsWith('Owed_')));
    expect(owed).toEqual([]);
    // Every job's event reached the bus: none of the three is missing.
    expect(keys(pool).filter((key) => (got.events.get(key) ?? 0) < 1)).toEqual([]);
    if (published === 'nothing') {
      // Killed before publishing: exactly once.
      expect(got.completed).toEqual(EXACT);
      expect(got.imported).toBe(8529);
      expect([...got.events.values()]).toEqual([1, 1, 1]);
    } else {
      // Killed between publishing and clearing: what was published may be published again, once; never less.
      for (const [status, n] of Object.entries(EXACT)) {
        expect(got.completed[status]).toBeGreaterThanOrEqual(n);
        expect(got.completed[status]).toBeLessThanOrEqual(published === 'events' ? n : 2 * n);
      }
      expect([...got.events.entries()].filter(([, n]) => n > 2)).toEqual([]);
    }
    // The run after the one that took over publishes nothing more.
    expect(after.logs.find((l) => l.message === 'Run summary')).toMatchObject({ owedPublished: 0, stillOwed: 0 });
  });
});

describe('a write whose answer was lost', () => {
  it('is counted by a later run when the read that should recognise it fails too', async () => {
    // The user's report: one Succeeded transition and 8,499 imported users never counted, under heavy faults.
    const pool = 'eu-west-1_Report1';
    await threeJobsEnd(pool, IN_BUCKETS);
    // The three jobs live in three buckets: the lost answer is job 3's bucket write alone.
    expect(new Set(['import-0000000001', 'import-0000000002', 'import-0000000003'].map(bucketOf)).size).toBe(3);
    world.dynamoFault = (operation, body) => {
      if (isStore(operation, body) && body.Key.JobId.S === bucketOf('import-0000000003')) return 'lose';
      return operation === 'GetItem' ? 'fail' : undefined;
    };
    const first = await world.invoke(pool, { ...IN_BUCKETS, AWS_MAX_ATTEMPTS: '2' });
    world.release();
    const later = await world.invoke(pool, IN_BUCKETS, { clockOffsetMs: AFTER_LEASE_MS });
    expect(later.exitCode).toBe(0);
    const got = totals(pool, [first, later]);
    expect(got.completed).toEqual(EXACT);
    expect(got.imported).toBe(8529);
    expect([...got.events.values()]).toEqual([1, 1, 1]);
    expect(later.logs.find((l) => l.message === 'Run summary')).toMatchObject({ leftoversPublished: 1 });
  });
});

describe('the event bus', () => {
  it('is sent again only the entries it rejected, within the run, each event then taken once', async () => {
    const pool = 'eu-west-1_Reject1';
    await threeJobsEnd(pool);
    const callsBefore = world.eventBridge.calls.length;
    let rejections = 2;
    world.eventBridge.reject = (event) =>
      event.detail.jobId === 'import-0000000002' && rejections-- > 0 ? 'ThrottlingException' : undefined;
    const run = await world.invoke(pool);
    expect(run.exitCode).toBe(0);
    expect(world.eventBridge.calls.slice(callsBefore)).toEqual([3, 1, 1]);
    expect(Object.fromEntries(world.eventBridge.deliveries(pool))).toEqual(Object.fromEntries(keys(pool).map((key) => [key, 1])));
    expect(run.logs.filter((l) => l.message === 'The event bus rejected a job event').map((l) => [l.errorCode, l.round])).toEqual([
      ['ThrottlingException', 1],
      ['ThrottlingException', 2],
    ]);
    expect(run.logs.find((l) => l.message === 'Run summary')).toMatchObject({ eventsSent: 3, stillOwed: 0 });
  });

  it('keeps refused events owed, and the next run after the lease sends them without counting again', async () => {
    const pool = 'eu-west-1_Reject2';
    await threeJobsEnd(pool);
    world.eventBridge.reject = () => 'InternalFailure';
    const refused = await world.invoke(pool, { TEST_TIMEOUT_MS: '7000' });
    expect(refused.exitCode).toBe(1);
    expect(refused.logs.find((l) => l.message === "Run failed")?.error.message).toMatch(/could not send 3 job events/);
    world.release();
    const next = await world.invoke(pool, {}, { clockOffsetMs: AFTER_LEASE_MS });
    expect(next.exitCode).toBe(0);
    const got = totals(pool, [refused, next]);
    expect(got.completed).toEqual(EXACT);
    expect([...got.events.values()]).toEqual([1, 1, 1]);
  });
});

// The loopback servers check no IAM: the construct's policy is held to what the bundled handler called.
/** Every action the bundled handler has called so far in this suite, sorted. */
function calledActions(): string[] {
  const called = new Set([
    ...world.dynamoLog.map((r) => `dynamodb:${r.operation}`),
    ...world.cognito.requests.map((r) => `cognito-idp:${r.target.split('.')[1]}`),
    ...(world.eventBridge.calls.length > 0 ? ['events:PutEvents'] : []),
  ]);
  return [...called].sort();
}

let allowedActions: Set<string> | undefined;
/** The actions the construct's policies allow its function, synthesized once. */
function allowed(): Set<string> {
  if (allowedActions) return allowedActions;
  const stack = new Stack(new App(), 'Roles', { env: { account: '123456789012', region: 'eu-west-1' } });
  new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123') });
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  allowedActions = new Set(
    Object.values(policies)
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => s.Effect === 'Allow')
      .flatMap((s: any) => [s.Action].flat()),
  );
  return allowedActions;
}

// Whatever order the tests ran in, every call of the whole suite is held to the policy once they are done.
afterAll(() => expect(calledActions().filter((action) => !allowed().has(action))).toEqual([]));

describe("the function's role", () => {
  it('allows every operation the bundled handler calls to store, recognise a lost answer, clear and send events', async () => {
    // A run of its own, so that the test holds whether it runs first or last: jobs end, one write's answer is lost.
    const pool = 'eu-west-1_Role1';
    await threeJobsEnd(pool);
    world.loseAnswers.UpdateItem = 1;
    const run = await world.invoke(pool);
    expect(run.exitCode).toBe(0);
    expect(world.loseAnswers.UpdateItem).toBe(0);
    expect(calledActions()).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'cognito-idp:DescribeUserPool', 'events:PutEvents']),
    );
    expect(calledActions().filter((action) => !allowed().has(action))).toEqual([]);
  });
});
