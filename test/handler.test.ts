import {
  CognitoIdentityProviderClient,
  DescribeUserPoolCommand,
  InternalErrorException,
  InvalidParameterException,
  ListUserImportJobsCommand,
  ListUserImportJobsCommandInput,
  NotAuthorizedException,
  ResourceNotFoundException,
  TooManyRequestsException,
  UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { EventBridgeClient, PutEventsCommand, PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { COMPLETED_STATUSES, JOB_STATUSES, UNFINISHED_STATUSES } from '../lib/contract';
import { Config, Deadline, Log, RunDependencies, RunSummary, createClients, handler, readConfig, runOnce } from '../lambda';
import { EmfRecord, datapoints, parseEmf, sumOf } from './support/emf';
import { MemoryTable } from './support/memory-table';
import { PoolStateStore, bucketOf, decodeEntries, decodeStates, encodeStates } from '../lambda/state-store';
import { Calls } from '../lambda/calls';
import { TRANSITION_FIELDS } from '../lib/private/widgets';

const POOL = 'eu-west-1_AbC123';
const CONFIG: Config = {
  userPoolId: POOL,
  userPoolRegion: 'eu-west-1',
  tableName: 'state',
  namespace: 'Cognito/UserImportJobs',
  scheduleMs: 300_000,
  activeScheduleMs: 60_000,
  warnings: { awaitingStartMs: 12 * 3_600_000, stuckMs: 12 * 3_600_000 },
  maxAttempts: 8,
};
const NOW = new Date('2026-11-25T12:00:00Z');
// A pool's jobs spread over 16 buckets from the start, as a pool past what one item holds.
const IN_BUCKETS: Config = { ...CONFIG, singleItemBytes: 0 };

const BUS = 'arn:aws:events:eu-west-1:123456789012:event-bus/default';
const WITH_EVENTS: Config = { ...CONFIG, eventBusName: BUS };
const cognitoMock = mockClient(CognitoIdentityProviderClient);
const eventsMock = mockClient(EventBridgeClient);
const events = new EventBridgeClient({ region: 'eu-west-1' });
const dynamoMock = mockClient(DynamoDBDocumentClient);
const cognito = new CognitoIdentityProviderClient({ region: 'eu-west-1' });
const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));

let table: MemoryTable;
let jobs: UserImportJobType[];
let logLines: { level: string; message: string; fields: Record<string, any> }[];
let stdout: string;

const log: Log = {
  info: (message, fields) => logLines.push({ level: 'INFO', message, fields }),
  warn: (message, fields) => logLines.push({ level: 'WARN', message, fields }),
  error: (message, fields) => logLines.push({ level: 'ERROR', message, fields }),
};

function job(n: number, status: string, extra: Partial<UserImportJobType> = {}): UserImportJobType {
  return {
    JobId: `import-${String(n).padStart(10, '0')}`,
    JobName: `job-${n}`,
    UserPoolId: POOL,
    Status: status as UserImportJobType['Status'],
    CreationDate: new Date('2026-01-01T00:00:00Z'),
    CompletionDate: (COMPLETED_STATUSES as readonly string[]).includes(status) ? new Date('2026-01-01T01:00:00Z') : undefined,
    ImportedUsers: 0,
    SkippedUsers: 0,
    FailedUsers: 0,
    ...extra,
  };
}

/** Serves `jobs` in pages of at most 50, as Cognito does, whatever MaxResults says. */
function servePages(input: ListUserImportJobsCommandInput) {
  const start = input.PaginationToken ? Number(input.PaginationToken) : 0;
  const end = start + Math.min(input.MaxResults!, 50);
  return { UserImportJobs: jobs.slice(start, end), PaginationToken: end < jobs.length ? String(end) : undefined };
}

async function run(now = NOW, deadline?: Deadline, config = CONFIG, more: Partial<RunDependencies> = {}): Promise<{ summary: RunSummary; emf: EmfRecord[] }> {
  stdout = '';
  const summary = await runOnce({ cognito, dynamodb, events: config.eventBusName ? events : undefined, config, now, log, deadline, ...more });
  return { summary, emf: parseEmf(stdout) };
}

/**
 * Another run stores job 1's `Failed` in `itemOf()` right after this run's Query: between this run's read and its
 * write, as an overlapping run's write lands.
 */
function failsJob1AfterQuery(itemOf: () => Record<string, any>): void {
  dynamoMock.on(QueryCommand).callsFake((input) => {
    const result = table.query(input);
    const item = itemOf();
    const states = decodeStates(item.States);
    states.set('import-0000000001', { ...states.get('import-0000000001')!, status: 'Failed' });
    Object.assign(item, { States: encodeStates(states), Version: item.Version + 1, WriteId: 'the other run' });
    return result;
  });
}

/** The next UpdateItem lands but its answer is lost: the SDK's retry then fails its condition, as on the wire. */
function loseFirstUpdateAnswer(): void {
  let lose = true;
  dynamoMock.on(UpdateCommand).callsFake((input) => {
    table.update(input);
    if (!lose) return {};
    lose = false;
    throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  });
}

function acceptAll(input: PutEventsCommandInput) {
  return { FailedEntryCount: 0, Entries: input.Entries!.map((_, i) => ({ EventId: `event-${i}` })) };
}

/** The details of every event sent, in order. */
function sentDetails(): Record<string, any>[] {
  return eventsMock.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!)));
}

/** Runs once against an empty table so that later runs are not first runs. */
async function baseline(config = CONFIG): Promise<void> {
  await run(NOW, undefined, config);
}

const completed = (emf: EmfRecord[], status: string) =>
  sumOf(emf, `JobsCompleted{UserPoolId=${POOL},Status=${status}}`);
/** The heartbeat datapoints among a run's records. */
const heartbeats = (emf: EmfRecord[]) => datapoints(emf).filter((p) => p.key.startsWith('Heartbeat'));
const gauge = (emf: EmfRecord[], status: string) => sumOf(emf, `Jobs{UserPoolId=${POOL},Status=${status}}`);

beforeEach(() => {
  cognitoMock.reset();
  dynamoMock.reset();
  eventsMock.reset();
  eventsMock.on(PutEventsCommand).callsFake(acceptAll);
  table = new MemoryTable();
  jobs = [];
  logLines = [];
  stdout = '';
  cognitoMock.on(ListUserImportJobsCommand).callsFake(servePages);
  dynamoMock.on(QueryCommand).callsFake((input) => table.query(input));
  dynamoMock.on(PutCommand).callsFake((input) => table.put(input));
  dynamoMock.on(UpdateCommand).callsFake((input) => table.update(input));
  dynamoMock.on(GetCommand).callsFake((input) => table.get(input));
  dynamoMock.on(DeleteCommand).callsFake((input) => table.delete(input));
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
    stdout += String(chunk);
    return true;
  });
});

afterEach(() => jest.restoreAllMocks());

describe('pagination', () => {
  it.each([
    [0, 1],
    [1, 1],
    [50, 1],
    [51, 2],
    [137, 3],
  ])('lists all of %i jobs in %i calls, asking for 60 a page', async (count, calls) => {
    // In flight, so that each listed job shows in a gauge: a pool publishes no gauge of ended jobs.
    jobs = Array.from({ length: count }, (_, i) => job(i, 'InProgress'));
    const { summary, emf } = await run();
    expect(summary.jobs).toBe(count);
    const requests = cognitoMock.commandCalls(ListUserImportJobsCommand).map((c) => c.args[0].input);
    expect(requests).toHaveLength(calls);
    expect(requests.map((r) => ({ MaxResults: r.MaxResults, UserPoolId: r.UserPoolId }))).toEqual(requests.map(() => ({ MaxResults: 60, UserPoolId: POOL })));
    expect(requests.map((r) => r.PaginationToken)).toEqual(
      Array.from({ length: calls }, (_, i) => (i === 0 ? undefined : String(i * 50))),
    );
    expect(gauge(emf, 'InProgress')).toBe(count);
  });

  it('fails the run, storing and publishing nothing, when a pagination token repeats', async () => {
    jobs = Array.from({ length: 60 }, (_, i) => job(i, 'Failed'));
    cognitoMock.on(ListUserImportJobsCommand).callsFake((input) => ({ ...servePages(input), PaginationToken: 'loop' }));
    await expect(run()).rejects.toThrow(/pagination token "loop" twice/);
    expect(table.puts).toBe(0);
    expect(parseEmf(stdout)).toEqual([]);
  });
});

describe('metrics', () => {
  it('publishes nothing for a quiet pool, and leaves the heartbeat to the tick: a series costs for each hour it gets data', async () => {
    jobs = [job(1, 'Succeeded', { CompletionDate: new Date(NOW.getTime() - 3 * 86_400_000) })];
    await baseline();
    const { emf } = await run();
    expect(heartbeats(emf)).toEqual([]);
    expect(datapoints(emf)).toEqual([]);
  });

  it('publishes, while a job is in flight, its gauge and the zeros of every series an alarm watches, with UserPoolId on each', async () => {
    const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
    jobs = [job(1, 'InProgress', { CreationDate: minutesAgo(10), StartDate: minutesAgo(5) })];
    const { emf } = await run();
    const points = datapoints(emf);
    expect(points.map((p) => p.key).sort()).toEqual(
      [
        `Jobs{UserPoolId=${POOL},Status=InProgress}`,
        ...['Failed', 'Expired'].map((s) => `JobsCompleted{UserPoolId=${POOL},Status=${s}}`),
        `FailedUsersOfEndedJobs{UserPoolId=${POOL}}`,
        `JobsAwaitingStart{UserPoolId=${POOL}}`,
        `JobsStuck{UserPoolId=${POOL}}`,
      ].sort(),
    );
    expect(points).toEqual(points.map((p) => ({ key: p.key, value: p.key.startsWith('Jobs{') ? 1 : 0, unit: 'Count', namespace: CONFIG.namespace })));
    expect(emf.map((r) => r._aws.Timestamp)).toEqual(emf.map(() => NOW.getTime()));
  });

  it('publishes the jobs awaiting start and the jobs stuck, from the listing, every run', async () => {
    const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
    jobs = [
      job(1, 'Created', { CreationDate: hoursAgo(13) }),
      job(2, 'Created', { CreationDate: hoursAgo(1) }),
      job(3, 'InProgress', { CreationDate: hoursAgo(20), StartDate: hoursAgo(14) }),
      job(4, 'Pending', { CreationDate: hoursAgo(3) }),
    ];
    const { emf } = await run();
    expect(sumOf(emf, `JobsAwaitingStart{UserPoolId=${POOL}}`)).toBe(1);
    expect(sumOf(emf, `JobsStuck{UserPoolId=${POOL}}`)).toBe(1);
  });

  it('counts jobs in every documented status', async () => {
    jobs = JOB_STATUSES.flatMap((s, i) => Array.from({ length: i + 1 }, (_, k) => job(i * 10 + k, s)));
    const { emf, summary } = await run();
    // A gauge for each status in flight; ended jobs stay listed for ever, so their gauges are the run's figures only.
    UNFINISHED_STATUSES.forEach((s) => expect(gauge(emf, s)).toBe(JOB_STATUSES.indexOf(s) + 1));
    COMPLETED_STATUSES.forEach((s) => expect(summary.figures.jobs[s]).toBe(JOB_STATUSES.indexOf(s) + 1));
  });

  it('logs and leaves out a job with an unknown status, and still publishes', async () => {
    jobs = [job(1, 'Paused'), job(2, 'Created')];
    const { emf } = await run();
    expect(gauge(emf, 'Created')).toBe(1);
    expect(JOB_STATUSES.reduce((sum, s) => sum + gauge(emf, s), 0)).toBe(1);
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 'WARN', fields: expect.objectContaining({ jobId: 'import-0000000001', status: 'Paused' }) }),
    );
    expect(table.job(POOL, 'import-0000000001')).toBeUndefined();
  });
});

describe('transitions', () => {
  it('counts a job that failed since the previous run, and the users it processed', async () => {
    jobs = [job(1, 'InProgress', { ImportedUsers: 10 })];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 25, SkippedUsers: 3, FailedUsers: 7, CompletionMessage: 'Too many failed users' })];
    const { emf } = await run();
    expect(completed(emf, 'Failed')).toBe(1);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(15);
    expect(sumOf(emf, `SkippedUsers{UserPoolId=${POOL}}`)).toBe(3);
    expect(sumOf(emf, `FailedUsers{UserPoolId=${POOL}}`)).toBe(7);
    expect(logLines).toContainEqual({
      level: 'INFO',
      message: 'Import job completed',
      fields: expect.objectContaining({
        jobId: 'import-0000000001',
        jobName: 'job-1',
        previousStatus: 'InProgress',
        status: 'Failed',
        importedUsers: 25,
        skippedUsers: 3,
        failedUsers: 7,
        completionMessage: 'Too many failed users',
      }),
    });
    expect(table.job(POOL, 'import-0000000001')).toMatchObject({ Status: 'Failed', ImportedUsers: 25, Version: 2 });
  });

  it('logs, on each transition, every field the dashboard table of transitions shows', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Succeeded', { ImportedUsers: 2, CompletionMessage: 'done' })];
    await run();
    const line = logLines.find((l) => l.message === 'Import job completed')!;
    expect(Object.keys(line.fields)).toEqual(expect.arrayContaining(TRANSITION_FIELDS));
  });

  it.each(COMPLETED_STATUSES)('counts a job that entered %s', async (status) => {
    jobs = [job(1, 'Created')];
    await baseline();
    jobs = [job(1, status)];
    const { emf } = await run();
    for (const s of COMPLETED_STATUSES) expect(completed(emf, s)).toBe(s === status ? 1 : 0);
  });

  it('logs every status change it stored, completed or not', async () => {
    jobs = [job(1, 'Created'), job(2, 'Pending')];
    await baseline();
    jobs = [job(1, 'Pending'), job(2, 'Pending')];
    logLines = [];
    await run();
    expect(logLines.filter((l) => l.message.startsWith('Import job'))).toEqual([
      {
        level: 'INFO',
        message: 'Import job status changed',
        fields: expect.objectContaining({ jobId: 'import-0000000001', previousStatus: 'Created', status: 'Pending' }),
      },
    ]);
  });

  it('counts a transition once across runs', async () => {
    jobs = [job(1, 'Pending')];
    await baseline();
    jobs = [job(1, 'Expired')];
    const second = await run();
    const third = await run();
    expect(completed(second.emf, 'Expired')).toBe(1);
    expect(completed(third.emf, 'Expired')).toBe(0);
    expect(third.summary.figures.jobs.Expired).toBe(1);
  });
});

describe('first run', () => {
  it('stores old completed jobs as history and pages nobody', async () => {
    jobs = [
      job(1, 'Failed', { CompletionDate: new Date(NOW.getTime() - 3_600_000), ImportedUsers: 100 }),
      job(2, 'Expired', { CompletionDate: new Date(NOW.getTime() - 60_000) }),
    ];
    const { summary, emf } = await run();
    expect(summary.firstRun).toBe(true);
    expect(completed(emf, 'Failed')).toBe(0);
    expect(completed(emf, 'Expired')).toBe(1);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(0);
    expect(summary.figures.jobs.Failed).toBe(1);
    expect(logLines.filter((l) => l.message.startsWith('Import job')).map((l) => l.fields.jobId)).toEqual(['import-0000000002']);
    expect(table.job(POOL, '#pool')).toEqual({
      UserPoolId: POOL,
      JobId: '#pool',
      HistoryBefore: new Date(NOW.getTime() - 300_000).toISOString(),
      FirstRunCompletedAt: NOW.toISOString(),
      WriteId: expect.any(String),
    });
    const second = await run(new Date(NOW.getTime() + 300_000));
    expect(second.summary.firstRun).toBe(false);
    expect(completed(second.emf, 'Failed') + completed(second.emf, 'Expired')).toBe(0);
  });
});

describe('first run, cut short', () => {
  it('publishes what it stored before failing to mark the pool as seen, and stays a first run', async () => {
    jobs = [job(1, 'Expired', { CompletionDate: new Date(NOW.getTime() - 60_000) })];
    dynamoMock.on(PutCommand).callsFake((input) => {
      if (input.Item.FirstRunCompletedAt) throw new Error('table unavailable');
      return table.put(input);
    });
    await expect(run()).rejects.toThrow('table unavailable');
    expect(completed(parseEmf(stdout), 'Expired')).toBe(1);
    dynamoMock.on(PutCommand).callsFake((input) => table.put(input));
    const again = await run();
    expect(again.summary.firstRun).toBe(true);
    expect(completed(again.emf, 'Expired')).toBe(0);
  });

  it('keeps its history cut-off when retried, so a recent completion it failed to store still counts', async () => {
    jobs = [job(1, 'Failed', { CompletionDate: new Date(NOW.getTime() - 270_000) })];
    dynamoMock.on(UpdateCommand).callsFakeOnce(() => {
      throw new Error('throttled for good');
    }).callsFake((input) => table.update(input));
    await expect(run()).rejects.toThrow(/could not store 1 of 1 job changes .*\(first: UpdateItem bucket #jobs#00 \(jobs import-0000000001\) .*Error: throttled for good\)/);
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 'ERROR', fields: expect.objectContaining({ jobId: 'import-0000000001', error: expect.any(Error) }) }),
    );
    // Lambda retries a minute later: by its own clock the job completed 5.5 minutes ago.
    const retried = await run(new Date(NOW.getTime() + 60_000));
    expect(retried.summary.firstRun).toBe(true);
    expect(completed(retried.emf, 'Failed')).toBe(1);
  });
});

describe('exactly once', () => {
  it('counts nothing again when a run is retried', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Succeeded', { ImportedUsers: 40 })];
    const first = await run();
    const retried = await run();
    expect(completed(first.emf, 'Succeeded')).toBe(1);
    expect(completed(retried.emf, 'Succeeded')).toBe(0);
    expect(sumOf(first.emf, `ImportedUsers{UserPoolId=${POOL}}`) + sumOf(retried.emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(40);
  });

  it('leaves the count to the run that stored the change when two runs overlap', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(IN_BUCKETS);
    jobs = [job(1, 'Failed'), job(2, 'Failed')];
    // Another run stores job 1's change between our read and our write (jobs 1 and 2 are in buckets of their own).
    expect(bucketOf('import-0000000001')).not.toBe(bucketOf('import-0000000002'));
    failsJob1AfterQuery(() => table.bucket(POOL, 'import-0000000001')!);
    const { summary, emf } = await run(NOW, undefined, IN_BUCKETS);
    expect(completed(emf, 'Failed')).toBe(1);
    expect(summary.changesStored).toBe(1);
    expect(summary.changesStoredElsewhere).toBe(1);
    expect(logLines.filter((l) => l.message === 'Import job completed').map((l) => l.fields.jobId)).toEqual([
      'import-0000000002',
    ]);
  });

  it('counts its own write when the SDK retried it after the first attempt landed', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 12 })];
    // The first attempt is stored but its answer is lost; the SDK's retry then fails the version check.
    loseFirstUpdateAnswer();
    const { summary, emf } = await run();
    expect(completed(emf, 'Failed')).toBe(1);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(12);
    expect(summary.changesStored).toBe(1);
  });

  it('publishes what it stored and fails the run when a write fails', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(IN_BUCKETS);
    jobs = [job(1, 'Failed'), job(2, 'Failed')];
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (input.Key!.JobId === bucketOf('import-0000000002')) throw new Error('throttled for good');
      return table.update(input);
    });
    await expect(run(NOW, undefined, IN_BUCKETS)).rejects.toThrow(/could not store 1 of 2 job changes for user pool eu-west-1_AbC123/);
    expect(completed(parseEmf(stdout), 'Failed')).toBe(1);
    expect(table.job(POOL, 'import-0000000002')!.Status).toBe('InProgress');
    // The gauges went out, but no heartbeat: a monitor whose writes keep failing is broken, and must page.
    expect(heartbeats(parseEmf(stdout))).toEqual([]);
  });

  it('publishes no heartbeat when a first run cannot mark the pool as seen', async () => {
    jobs = [job(1, 'InProgress')];
    dynamoMock.on(PutCommand).callsFake((input) => {
      if (input.Item.JobId === '#pool' && input.Item.FirstRunCompletedAt) throw new Error('throttled for good');
      return table.put(input);
    });
    await expect(run()).rejects.toThrow(/PutItem pool marker/);
    expect(gauge(parseEmf(stdout), 'InProgress')).toBe(1);
    expect(heartbeats(parseEmf(stdout))).toEqual([]);
  });
});

describe('one item while it fits, then 16 buckets', () => {
  const jobIds = (item: Record<string, any> | undefined) => [...decodeStates(item?.States).keys()].sort();
  // Jobs 1 and 2 hash to buckets #jobs#00 and #jobs#09.
  const SMALL: Config = { ...CONFIG, singleItemBytes: 120 };

  it("keeps a small pool's jobs in one item: one write and one clear for changes of jobs of different buckets", async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed'), job(2, 'Failed')];
    const updates = table.updates;
    const { summary, emf } = await run();
    expect(completed(emf, 'Failed')).toBe(2);
    expect(summary.changesStored).toBe(2);
    expect(table.updates - updates).toBe(2); // the write, then its clear
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ Buckets: 1, Jobs: 2 });
    expect(table.item(POOL, bucketOf('import-0000000002'))).toBeUndefined();
  });

  it('spreads the jobs over buckets once they outgrow the item, counting each change once', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(SMALL);
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ Buckets: 1 });
    jobs = [job(1, 'Failed'), job(2, 'Failed'), job(3, 'InProgress'), job(4, 'InProgress')];
    const { summary, emf } = await run(NOW, undefined, SMALL);
    expect(completed(emf, 'Failed')).toBe(2);
    expect(summary.changesStored).toBe(4);
    const head = table.item(POOL, '#jobs#00');
    expect(head).toMatchObject({ Buckets: 16 });
    for (const n of [1, 2, 3, 4]) {
      const jobId = `import-000000000${n}`;
      expect(jobIds(table.item(POOL, bucketOf(jobId)))).toContain(jobId);
      expect(table.job(POOL, jobId)!.Status).toBe(n <= 2 ? 'Failed' : 'InProgress');
    }
    expect(jobIds(head)).toEqual([1, 2, 3, 4].map((n) => `import-000000000${n}`).filter((id) => bucketOf(id) === '#jobs#00'));
    const again = await run(NOW, undefined, SMALL);
    expect(again.summary.changesStored).toBe(0);
    expect(completed(again.emf, 'Failed')).toBe(0);
  });

  it('leaves the count to the run that wrote the item when that write beats the split', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(SMALL);
    jobs = [job(1, 'Failed'), job(2, 'Failed'), job(3, 'InProgress')];
    // Another run stores job 1's change in the one item between our read and our split.
    failsJob1AfterQuery(() => table.item(POOL, '#jobs#00')!);
    const { summary, emf } = await run(NOW, undefined, SMALL);
    expect(completed(emf, 'Failed')).toBe(0);
    expect(summary.changesStored).toBe(0);
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ Buckets: 1 });
    // The next run reads the one item, the copies left by the split being no part of the pool, and counts job 2 alone.
    dynamoMock.on(QueryCommand).callsFake((input) => table.query(input));
    const next = await run(NOW, undefined, SMALL);
    expect(completed(next.emf, 'Failed')).toBe(1);
    expect(table.job(POOL, 'import-0000000002')!.Status).toBe('Failed');
    expect(table.job(POOL, 'import-0000000003')!.Status).toBe('InProgress');
  });

  it('counts nothing of a split cut short before its last write, and splits again on the next run', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(SMALL);
    jobs = [job(1, 'Failed'), job(2, 'Failed'), job(3, 'InProgress')];
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (input.Key!.JobId === '#jobs#00' && input.UpdateExpression!.includes('Buckets')) throw new Error('throttled for good');
      return table.update(input);
    });
    await expect(run(NOW, undefined, SMALL)).rejects.toThrow(/could not store 3 of 3 job changes/);
    expect(logLines).toContainEqual(expect.objectContaining({ message: "Could not spread the pool's jobs over 16 buckets; a later run will" }));
    expect(completed(parseEmf(stdout), 'Failed')).toBe(0);
    dynamoMock.on(UpdateCommand).callsFake((input) => table.update(input));
    const next = await run(NOW, undefined, SMALL);
    expect(completed(next.emf, 'Failed')).toBe(2);
    expect(next.summary.changesStored).toBe(3);
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ Buckets: 16 });
  });

  it('lets no late copy of a split replace a bucket written since', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(SMALL);
    const store = new PoolStateStore({ client: dynamodb, tableName: 'state' }, new Calls({ userPoolId: POOL }), 500);
    const before = await store.readState();
    expect(before.single).toBe(true);
    // A split lands, and a run of the bucket layout stores job 2's change in its bucket.
    expect((await store.split(before, NOW))?.single).toBe(false);
    jobs = [job(1, 'InProgress'), job(2, 'Failed')];
    expect(completed((await run(NOW, undefined, SMALL)).emf, 'Failed')).toBe(1);
    // A second split, of the same version of the one item, comes late: its copies fail their condition.
    await expect(store.split(before, NOW)).resolves.toBeUndefined();
    expect(table.job(POOL, 'import-0000000002')!.Status).toBe('Failed');
    expect(table.item(POOL, bucketOf('import-0000000002'))!.SplitFrom).toBeUndefined();
  });

  it("counts nothing again that 0.2.0's code stored in a bucket of a pool kept in one item (a rollback), and keeps it in buckets", async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline();
    const head = table.item(POOL, '#jobs#00')!;
    expect(head).toMatchObject({ Buckets: 1 });
    // A run of 0.2.0 reads the one item as its bucket #jobs#00 and stores job 2's end in job 2's bucket, counting it.
    const key = bucketOf('import-0000000002');
    const ended = new Map([['import-0000000002', { status: 'Failed' as const, importedUsers: 0, skippedUsers: 0, failedUsers: 0 }]]);
    table.put({ TableName: 'state', Item: { UserPoolId: POOL, JobId: key, Version: 1, States: encodeStates(ended), WriteId: 'a run of 0.2.0' } });
    jobs = [job(1, 'Failed'), job(2, 'Failed')];
    const { emf, summary } = await run();
    expect(completed(emf, 'Failed')).toBe(1);
    expect(summary.changesStored).toBe(1);
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ Buckets: 16 });
    expect(table.job(POOL, 'import-0000000001')!.Status).toBe('Failed');
    const again = await run();
    expect(completed(again.emf, 'Failed')).toBe(0);
  });

  it("keeps a table of 0.2.0's layout (buckets, none marked) in buckets", async () => {
    table.put({ TableName: 'state', Item: { UserPoolId: POOL, JobId: '#pool', FirstRunCompletedAt: NOW.toISOString() } });
    const key = bucketOf('import-0000000002');
    table.put({
      TableName: 'state',
      Item: { UserPoolId: POOL, JobId: key, Version: 3, States: encodeStates(new Map([['import-0000000002', { status: 'InProgress', importedUsers: 0, skippedUsers: 0, failedUsers: 0 }]])) },
    });
    jobs = [job(2, 'Failed'), job(1, 'InProgress')];
    const { emf } = await run();
    expect(completed(emf, 'Failed')).toBe(1);
    expect(table.item(POOL, key)).toMatchObject({ Version: 4 });
    expect(table.item(POOL, key)!.Buckets).toBeUndefined();
    expect(jobIds(table.item(POOL, bucketOf('import-0000000001')))).toEqual(['import-0000000001']);
  });
});

describe("a table of 0.1.0's layout (one item per job)", () => {
  it('takes its jobs into buckets in one write per bucket, counting nothing, and deletes their items', async () => {
    table.put({ TableName: 'state', Item: { UserPoolId: POOL, JobId: '#pool', FirstRunCompletedAt: NOW.toISOString() } });
    jobs = [job(1, 'Succeeded', { ImportedUsers: 7 }), job(2, 'InProgress', { ImportedUsers: 3 })];
    table.putLegacyJob(POOL, 'import-0000000001', 'Succeeded', 4, { ImportedUsers: 7 });
    table.putLegacyJob(POOL, 'import-0000000002', 'InProgress', 2, { ImportedUsers: 3 });
    const { summary, emf } = await run();
    expect(summary).toMatchObject({ changesStored: 0, owedPublished: 0 });
    expect(completed(emf, 'Succeeded')).toBe(0);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(0);
    expect(table.item(POOL, 'import-0000000001')).toBeUndefined();
    expect(table.item(POOL, 'import-0000000002')).toBeUndefined();
    expect(table.job(POOL, 'import-0000000001')).toMatchObject({ Status: 'Succeeded', ImportedUsers: 7, Version: 1 });
    expect(table.job(POOL, 'import-0000000002')).toMatchObject({ Status: 'InProgress', ImportedUsers: 3, Version: 1 });
    expect(table.deletes).toBe(2);
  });

  it('counts nothing again that a run of 0.1.0 stored after the bucket was written, its state being the later one', async () => {
    jobs = [job(1, 'InProgress', { ImportedUsers: 10 })];
    await baseline();
    // A run of the old release, still running during the deployment, stores and counts the job's end in its own item.
    table.putLegacyJob(POOL, 'import-0000000001', 'Failed', 3, { ImportedUsers: 25 });
    jobs = [job(1, 'Failed', { ImportedUsers: 25 })];
    const { summary, emf } = await run();
    expect(summary.changesStored).toBe(0);
    expect(completed(emf, 'Failed')).toBe(0);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(0);
    // The bucket takes the later state in, and the old item goes.
    expect(table.job(POOL, 'import-0000000001')).toMatchObject({ Status: 'Failed', ImportedUsers: 25, Version: 2 });
    expect(table.item(POOL, 'import-0000000001')).toBeUndefined();
  });

  it('keeps an item of 0.1.0 that changed since it was read, deleting only what the read saw', async () => {
    table.put({ TableName: 'state', Item: { UserPoolId: POOL, JobId: '#pool', FirstRunCompletedAt: NOW.toISOString() } });
    jobs = [job(1, 'InProgress')];
    table.putLegacyJob(POOL, 'import-0000000001', 'InProgress', 1);
    dynamoMock.on(DeleteCommand).callsFake((input) => {
      // A run of the old release stores a change, and what it owes, between our read and our delete.
      table.putLegacyJob(POOL, 'import-0000000001', 'Failed', 2, { Owed_2: { Token: 'old', LeaseUntil: NOW.toISOString(), At: NOW.toISOString() } });
      return table.delete(input);
    });
    await run();
    expect(table.item(POOL, 'import-0000000001')).toMatchObject({ Status: 'Failed', Version: 2 });
    expect(table.owed(POOL)).toHaveLength(1);
  });
});

describe('a bucket near the item size limit', () => {
  it('fails its write, naming the pool and the bucket, and stores nothing of it', async () => {
    const store = new PoolStateStore({ client: dynamodb, tableName: 'state' }, new Calls({ userPoolId: POOL }));
    // A bucket whose outbox already holds 360 KB left owed: one more write would pass DynamoDB's 400 KB.
    const bucket = { key: '#jobs#00', version: 3, states: new Map(), owedBytes: 360_000 };
    const state = { single: false, stored: new Map(), outbox: [], legacy: new Map(), buckets: new Map([['#jobs#00', bucket]]) };
    const write = store.storeBucket(state, { key: '#jobs#00', changes: [] }, () => undefined, { leaseUntil: NOW.toISOString(), at: NOW });
    await expect(write).rejects.toThrow(/^bucket #jobs#00 of user pool eu-west-1_AbC123 would hold 0 jobs and 0 outbox entries in \d+ bytes, over the 350000/);
    expect(table.updates).toBe(0);
  });
});

describe('jobs checked at the boundary', () => {
  const LATER = new Date(NOW.getTime() + 16 * 60_000);
  const invalidCount = (emf: EmfRecord[]) => sumOf(emf, `InvalidJobs{UserPoolId=${POOL}}`);
  const leftOut = () => logLines.filter((l) => l.message.startsWith('Job left out'));

  it.each([
    ['a count as a numeric string', { ImportedUsers: '12' as unknown as number }, 'ImportedUsers is not a count from 0 to 2^53-1: "12"'],
    ['a negative count', { FailedUsers: -3 }, 'FailedUsers is not a count from 0 to 2^53-1: -3'],
    ['a count above 2^53', { SkippedUsers: 2 ** 53 + 2 }, 'SkippedUsers is not a count from 0 to 2^53-1: 9007199254740994'],
    ['a date out of range', { CompletionDate: new Date(8.64e15 + 1) }, 'CompletionDate is not a date from 2016 to a day ahead: "Invalid Date"'],
    ['a date before Cognito', { CreationDate: new Date('1970-01-01T00:00:00Z') }, 'CreationDate is not a date from 2016 to a day ahead: 1970-01-01T00:00:00.000Z'],
    ['an empty JobId', { JobId: '' }, 'JobId is not a job ID: ""'],
  ])('leaves out a job with %s, names it and what was wrong, and counts, clears and beats for the rest', async (_, bad, problem) => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 5 }), job(2, 'Succeeded', bad as Partial<UserImportJobType>)];
    const { summary, emf } = await run(NOW, undefined, WITH_EVENTS);
    expect(summary).toMatchObject({ invalidJobs: 1, stillOwed: 0, complete: true });
    expect(completed(emf, 'Failed')).toBe(1);
    expect(completed(emf, 'Succeeded')).toBe(0);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(5);
    expect(invalidCount(emf)).toBe(1);
    expect(leftOut()).toEqual([expect.objectContaining({ fields: expect.objectContaining({ problems: [problem] }) })]);
    expect(table.owed(POOL)).toEqual([]);
    // The next run publishes nothing again: nothing was left owed by the job it left out.
    const next = await run(LATER, undefined, WITH_EVENTS);
    expect(completed(next.emf, 'Failed')).toBe(0);
    expect(invalidCount(next.emf)).toBe(1);
  });

  it('counts the job once its listing makes sense again', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Succeeded', { ImportedUsers: '7' as unknown as number })];
    expect(completed((await run(NOW)).emf, 'Succeeded')).toBe(0);
    jobs = [job(1, 'Succeeded', { ImportedUsers: 7 })];
    const { emf } = await run(LATER);
    expect(completed(emf, 'Succeeded')).toBe(1);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(7);
    // Published only when not zero: a healthy pool pays no metric for it.
    expect(datapoints(emf).filter((p) => p.key.startsWith('InvalidJobs'))).toEqual([]);
  });
});

describe('faults', () => {
  it.each([
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'User pool does not exist', $metadata: {} })],
    ['NotAuthorizedException', new NotAuthorizedException({ message: 'not authorized', $metadata: {} })],
    ['InvalidParameterException', new InvalidParameterException({ message: 'bad parameter', $metadata: {} })],
    ['TooManyRequestsException', new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} })],
    ['InternalErrorException', new InternalErrorException({ message: 'internal', $metadata: {} })],
  ])('fails the run on %s (once the SDK gives up retrying): no gauges, no transitions, nothing stored', async (name, error) => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    const puts = table.puts;
    jobs = [job(1, 'Failed')];
    cognitoMock.on(ListUserImportJobsCommand).rejects(error);
    await expect(run()).rejects.toMatchObject({ name });
    expect(parseEmf(stdout)).toEqual([]);
    expect(table.puts).toBe(puts);
  });

  it('fails the run when the listing breaks off half way, storing nothing', async () => {
    jobs = Array.from({ length: 120 }, (_, i) => job(i, 'Failed'));
    cognitoMock
      .on(ListUserImportJobsCommand)
      .callsFakeOnce(servePages)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    await expect(run()).rejects.toThrow('Rate exceeded');
    expect(table.puts).toBe(0);
    expect(parseEmf(stdout)).toEqual([]);
  });
});

/** An SDK error as the SDK throws it once it gave up: typed, with the attempts it made. */
function sdkError<T extends Error>(error: T, attempts: number): T {
  return Object.assign(error, { $metadata: { attempts } });
}

describe('errors name the call that failed', () => {
  it('names the listing page, the pool and the attempts, keeping the original name and cause', async () => {
    jobs = Array.from({ length: 120 }, (_, i) => job(i, 'Failed'));
    const cause = sdkError(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }), 1);
    cognitoMock.on(ListUserImportJobsCommand).callsFakeOnce(servePages).callsFakeOnce(servePages).rejects(cause);
    const error = await run().catch((e) => e);
    expect(error).toMatchObject({
      name: 'NotAuthorizedException',
      message: `ListUserImportJobs page 3 for user pool ${POOL} failed after 1 attempt: NotAuthorizedException: not authorized`,
      operation: 'ListUserImportJobs page 3',
      userPoolId: POOL,
    });
    expect(error.cause).toBe(cause);
    expect(error.deadline).toBeUndefined();
  });

  it('names the page of the state it was reading', async () => {
    dynamoMock.on(QueryCommand).rejects(sdkError(Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }), 8));
    await expect(run()).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      operation: 'Query state page 1',
      message: `Query state page 1 for user pool ${POOL} failed after 8 attempts: ResourceNotFoundException: Requested resource not found`,
    });
  });

  it('names the job in the log line of a failed write and in the error of the run', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline(IN_BUCKETS);
    jobs = [job(1, 'Failed'), job(2, 'Failed')];
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (input.Key!.JobId === bucketOf('import-0000000002')) throw sdkError(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 8);
      return table.update(input);
    });
    logLines = [];
    const error = await run(NOW, undefined, IN_BUCKETS).catch((e) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect(error.message).toBe(
      `could not store 1 of 2 job changes for user pool ${POOL} (first: UpdateItem bucket #jobs#09 (jobs import-0000000002) for user pool ${POOL} ` +
        'failed after 8 attempts: TimeoutError: socket hang up); they will be counted by the next run',
    );
    expect(error.errors.map((e: any) => e.operation)).toEqual(['UpdateItem bucket #jobs#09 (jobs import-0000000002)']);
    expect(logLines.filter((l) => l.level === 'ERROR')).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({
          jobId: 'import-0000000002',
          error: expect.objectContaining({ name: 'TimeoutError', operation: 'UpdateItem bucket #jobs#09 (jobs import-0000000002)' }),
        }),
      }),
    ]);
  });

  it('names the pool marker when marking the first run fails', async () => {
    dynamoMock.on(PutCommand).callsFake((input) => {
      if (input.Item.FirstRunCompletedAt) throw new Error('table unavailable');
      return table.put(input);
    });
    await expect(run()).rejects.toMatchObject({ operation: 'PutItem pool marker', message: expect.stringContaining('table unavailable') });
  });

  it("says the run's deadline cut the call off, and when the deadline was", async () => {
    const controller = new AbortController();
    const deadline: Deadline = { at: new Date('2026-11-25T12:01:55Z'), signal: controller.signal };
    cognitoMock.on(ListUserImportJobsCommand).callsFake(() => {
      controller.abort(); // as AbortSignal.timeout does at the deadline, failing the call under way
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    const error = await run(NOW, deadline).catch((e) => e);
    expect(error).toMatchObject({
      name: 'AbortError',
      operation: 'ListUserImportJobs page 1',
      deadline: '2026-11-25T12:01:55.000Z',
      message:
        `ListUserImportJobs page 1 for user pool ${POOL} was cut off by the run's deadline, 2026-11-25T12:01:55.000Z ` +
        "(5 s before the function's timeout): AbortError: Request aborted",
    });
  });

  it('passes the deadline on to every call, so that the SDK aborts them', async () => {
    jobs = [job(1, 'Created')];
    const deadline: Deadline = { at: new Date(NOW.getTime() + 60_000), signal: new AbortController().signal };
    const signals: unknown[] = [];
    const spy = jest.spyOn(CognitoIdentityProviderClient.prototype, 'send');
    const dynamoSpy = jest.spyOn(DynamoDBDocumentClient.prototype, 'send');
    await run(NOW, deadline);
    for (const call of [...spy.mock.calls, ...dynamoSpy.mock.calls]) signals.push((call[1] as any)?.abortSignal);
    expect(signals.length).toBeGreaterThan(2);
    // Each call that was given another signal, or none, by its place among the calls.
    expect(signals.map((signal, call) => ({ call, signal })).filter(({ signal }) => signal !== deadline.signal)).toEqual([]);
  });
});

describe('clients', () => {
  const region = process.env.AWS_REGION;
  afterEach(() => (process.env.AWS_REGION = region));

  it("calls Cognito in the pool's region and DynamoDB in the function's own", async () => {
    process.env.AWS_REGION = 'us-east-1';
    const clients = createClients(readConfig({ USER_POOL_ID: 'ap-southeast-2_AbC123', STATE_TABLE_NAME: 't', SCHEDULE_SECONDS: '300' }));
    expect(await clients.cognito.config.region()).toBe('ap-southeast-2');
    expect(await clients.dynamodb.config.region()).toBe('us-east-1');
  });

  it('makes as many attempts as configured, adaptive for Cognito', async () => {
    const clients = createClients({ ...CONFIG, maxAttempts: 3 });
    expect(await clients.cognito.config.maxAttempts()).toBe(3);
    expect(await clients.dynamodb.config.maxAttempts()).toBe(3);
    expect(await clients.cognito.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
  });
});

describe('readConfig', () => {
  const env = { USER_POOL_ID: POOL, STATE_TABLE_NAME: 'state', SCHEDULE_SECONDS: '300' };

  it('reads the settings the construct sets', () => {
    expect(readConfig({ ...env, METRIC_NAMESPACE: 'Team/Imports' })).toEqual({
      userPoolId: POOL,
      userPoolRegion: 'eu-west-1',
      tableName: 'state',
      namespace: 'Team/Imports',
      scheduleMs: 300_000,
      activeScheduleMs: 60_000,
      warnings: { awaitingStartMs: 43_200_000, stuckMs: 43_200_000 },
      maxAttempts: 8,
      // The default warning alarms' range (15 minutes) and the schedule (5).
      warningZerosMs: 1_200_000,
    });
    expect(readConfig({ ...env, AWAITING_START_SECONDS: '3600', STUCK_SECONDS: '7200' }).warnings).toEqual({ awaitingStartMs: 3_600_000, stuckMs: 7_200_000 });
    expect(() => readConfig({ ...env, STUCK_SECONDS: '1.5' })).toThrow('STUCK_SECONDS must be a whole number of seconds, at least 60, got "1.5"');
    expect(readConfig(env).namespace).toBe('Cognito/UserImportJobs');
    expect(readConfig({ ...env, ACTIVE_SCHEDULE_SECONDS: '120' }).activeScheduleMs).toBe(120_000);
  });

  it.each([
    ['eu-west-1_AbC123', 'eu-west-1'],
    ['us-gov-west-1_AbC123', 'us-gov-west-1'],
    ['ap-southeast-5_x', 'ap-southeast-5'],
    ['eusc-de-east-1_AbC123', 'eusc-de-east-1'],
  ])("reads the region of pool %s from its ID", (userPoolId, region) => {
    expect(readConfig({ ...env, USER_POOL_ID: userPoolId }).userPoolRegion).toBe(region);
  });

  it('fails when the user pool ID does not start with a region', () => {
    expect(() => readConfig({ ...env, USER_POOL_ID: 'local_AbC123' })).toThrow(
      'USER_POOL_ID must be a user pool ID such as eu-west-1_AbC123, got "local_AbC123"',
    );
  });

  it('honours AWS_MAX_ATTEMPTS, as the SDK does, and makes 8 attempts without it', () => {
    expect(readConfig(env).maxAttempts).toBe(8);
    expect(readConfig({ ...env, AWS_MAX_ATTEMPTS: '2' }).maxAttempts).toBe(2);
  });

  it('fails when AWS_MAX_ATTEMPTS is not a whole number of attempts', () => {
    expect(() => readConfig({ ...env, AWS_MAX_ATTEMPTS: '0' })).toThrow('AWS_MAX_ATTEMPTS must be a whole number, at least 1, got "0"');
    expect(() => readConfig({ ...env, AWS_MAX_ATTEMPTS: 'many' })).toThrow(/got "many"/);
  });

  it('fails when the user pool ID is malformed', () => {
    expect(() => readConfig({ ...env, USER_POOL_ID: 'not a pool' })).toThrow(
      'USER_POOL_ID must be a user pool ID such as eu-west-1_AbC123, got "not a pool"',
    );
  });

  it('fails when the table name is missing', () => {
    expect(() => readConfig({ ...env, STATE_TABLE_NAME: undefined })).toThrow(/STATE_TABLE_NAME must name the state table, got ""/);
  });

  it('fails when the schedule is not whole seconds of a minute or more', () => {
    expect(() => readConfig({ ...env, SCHEDULE_SECONDS: '30' })).toThrow(/SCHEDULE_SECONDS .* got "30"/);
    expect(() => readConfig({ ...env, SCHEDULE_SECONDS: 'often' })).toThrow(/got "often"/);
  });
});

describe('cadence', () => {
  const TICK = { source: 'aws.events', 'detail-type': 'Scheduled Event' };
  const ENV = { USER_POOL_ID: POOL, STATE_TABLE_NAME: 'state', SCHEDULE_SECONDS: '300', AWS_REGION: 'eu-west-1' };
  const nextRun = () => table.job('#cadence', POOL)?.NextRunAt as string | undefined;
  const secondsFromNow = (iso: string | undefined) => (new Date(iso!).getTime() - Date.now()) / 1000;

  beforeEach(() => {
    jest.replaceProperty(process, 'env', { ...process.env, ...ENV });
    jest.spyOn(Math, 'random').mockReturnValue(0);
  });

  it('lists on a tick when no run time is stored, and is due again a minute on while a job is unfinished', async () => {
    jobs = [job(1, 'InProgress')];
    await handler(TICK);
    expect(cognitoMock.commandCalls(ListUserImportJobsCommand)).toHaveLength(1);
    expect(secondsFromNow(nextRun())).toBeGreaterThan(50);
    expect(secondsFromNow(nextRun())).toBeLessThanOrEqual(60);
  });

  it('is due again after the schedule once every job has ended', async () => {
    jobs = [job(1, 'Succeeded'), job(2, 'Failed')];
    await handler(TICK);
    expect(secondsFromNow(nextRun())).toBeGreaterThan(290);
    expect(secondsFromNow(nextRun())).toBeLessThanOrEqual(300);
  });

  it('lists nothing, stores nothing and publishes only a heartbeat of 1 on a tick before the stored time', async () => {
    const later = new Date(Date.now() + 240_000).toISOString();
    table.put({ TableName: 'state', Item: { UserPoolId: '#cadence', JobId: POOL, NextRunAt: later } });
    stdout = '';
    await expect(handler(TICK)).resolves.toEqual({ skipped: true, nextRunAt: later });
    expect(cognitoMock.commandCalls(ListUserImportJobsCommand)).toHaveLength(0);
    expect(dynamoMock.commandCalls(PutCommand)).toHaveLength(0);
    expect(dynamoMock.commandCalls(UpdateCommand)).toHaveLength(0);
    // The monitor works: its silence alarm must not wait for the pool's schedule to hear from it.
    expect(heartbeats(parseEmf(stdout)).map((p) => `${p.key}=${p.value}`)).toEqual([`Heartbeat{UserPoolId=${POOL}}=1`]);
  });

  it('sends a heartbeat of 1 after a complete run, and of 0 after a failed one', async () => {
    stdout = '';
    await handler({});
    expect(heartbeats(parseEmf(stdout)).map((p) => p.value)).toEqual([1]);
    cognitoMock.on(ListUserImportJobsCommand).rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }));
    jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    stdout = '';
    await expect(handler({})).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    expect(heartbeats(parseEmf(stdout)).map((p) => p.value)).toEqual([0]);
  });

  it('lists at once when not called by a tick, as the deployment run is, whatever the stored time', async () => {
    table.put({ TableName: 'state', Item: { UserPoolId: '#cadence', JobId: POOL, NextRunAt: new Date(Date.now() + 240_000).toISOString() } });
    await handler({ RequestType: 'Create' });
    expect(cognitoMock.commandCalls(ListUserImportJobsCommand)).toHaveLength(1);
  });

  it('leaves the stored time passed when a run fails, so that the next tick lists again', async () => {
    const passed = new Date(Date.now() - 1_000).toISOString();
    table.put({ TableName: 'state', Item: { UserPoolId: '#cadence', JobId: POOL, NextRunAt: passed } });
    cognitoMock.on(ListUserImportJobsCommand).rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }));
    // The handler's logger writes its ERROR line to stderr: kept here, out of a passing run's output, and read.
    let stderr = '';
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: any) => {
      stderr += String(chunk);
      return true;
    });
    await expect(handler(TICK)).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    expect(nextRun()).toBe(passed);
    expect(stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'Run failed', userPoolId: POOL, error: expect.objectContaining({ name: 'NotAuthorizedException' }) }),
    ]);
  });

  it('keeps the due time of a run that started later, when an earlier one finishes last', async () => {
    const later = new Date(Date.now() + 60_000).toISOString();
    table.put({ TableName: 'state', Item: { UserPoolId: '#cadence', JobId: POOL, NextRunAt: later, RunAt: new Date(Date.now() + 5_000).toISOString() } });
    jobs = [job(1, 'Succeeded')];
    await handler({});
    expect(nextRun()).toBe(later);
  });

  it('lists at once when the stored time is further off than the schedule, as after the schedule was shortened', async () => {
    table.put({ TableName: 'state', Item: { UserPoolId: '#cadence', JobId: POOL, NextRunAt: new Date(Date.now() + 86_400_000).toISOString() } });
    await handler(TICK);
    expect(cognitoMock.commandCalls(ListUserImportJobsCommand)).toHaveLength(1);
    expect(secondsFromNow(nextRun())).toBeLessThanOrEqual(300);
  });

  it('fails with the value when the active schedule is not whole seconds within the schedule', () => {
    expect(() => readConfig({ ...ENV, ACTIVE_SCHEDULE_SECONDS: '301' })).toThrow(
      'ACTIVE_SCHEDULE_SECONDS must be a whole number of seconds from 1 to SCHEDULE_SECONDS (300), got "301"',
    );
  });
});

describe('outbox', () => {
  const LATER = new Date(NOW.getTime() + 16 * 60_000); // after a run without a Lambda context has ended

  /** Starts a run that stores its changes and then hangs for ever on PutEvents, as a run killed there would. */
  async function killedBeforePublishing(): Promise<void> {
    let reached: () => void;
    const atPutEvents = new Promise<void>((resolve) => (reached = resolve));
    let hang = true;
    eventsMock.on(PutEventsCommand).callsFake((input) => {
      if (!hang) return acceptAll(input);
      hang = false;
      reached();
      return new Promise(() => {});
    });
    void run(NOW, undefined, WITH_EVENTS);
    await atPutEvents;
    eventsMock.resetHistory();
  }

  it('clears what a run published, so that the table owes nothing after it', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 3 })];
    const { summary } = await run(NOW, undefined, WITH_EVENTS);
    expect(summary).toMatchObject({ owedPublished: 1, leftoversPublished: 0, eventsSent: 1, stillOwed: 0 });
    expect(table.owed(POOL)).toEqual([]);
  });

  it('pays what a killed run left owed even when the pool can no longer be listed, and fails all the same', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 3 })];
    await killedBeforePublishing();
    expect(table.owed(POOL)).toHaveLength(1);
    cognitoMock.on(ListUserImportJobsCommand).rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }));
    stdout = '';
    await expect(run(LATER, undefined, WITH_EVENTS)).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    const emf = parseEmf(stdout);
    expect(completed(emf, 'Failed')).toBe(1);
    expect(sumOf(emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(3);
    // Counts only: no gauge is published without a listing.
    expect(datapoints(emf).filter((p) => p.key.startsWith('Jobs{'))).toEqual([]);
    expect(sentDetails()).toEqual([expect.objectContaining({ status: 'Failed' })]);
    expect(table.owed(POOL)).toEqual([]);
    expect(logLines.map((l) => l.message)).toContain('Published what earlier runs left owed, without a listing');
    // Listed again: nothing is published twice.
    cognitoMock.on(ListUserImportJobsCommand).callsFake(servePages);
    const next = await run(new Date(LATER.getTime() + 60_000), undefined, WITH_EVENTS);
    expect(completed(next.emf, 'Failed')).toBe(0);
  });

  it('clears what it published even when the table fails the clear five times, so that no later run publishes it again', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 3 })];
    let failures = 5;
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (input.UpdateExpression!.startsWith('REMOVE') && failures-- > 0) {
        // As the SDK throws once its retry quota is spent: the first attempt's error, a server fault.
        throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
      }
      return table.update(input);
    });
    const deadline = { at: new Date(Date.now() + 30_000), signal: new AbortController().signal };
    const { summary, emf } = await run(NOW, deadline, WITH_EVENTS);
    expect(completed(emf, 'Failed')).toBe(1);
    expect(summary).toMatchObject({ owedPublished: 1, stillOwed: 0 });
    expect(table.owed(POOL)).toEqual([]);
    expect(logLines.filter((l) => l.message.startsWith('Published, but could not clear'))).toEqual([]);
    // The next run publishes nothing again.
    const next = await run(LATER, undefined, WITH_EVENTS);
    expect(completed(next.emf, 'Failed')).toBe(0);
  });

  it('gives up a clear at once on a failure that cannot pass, such as access denied', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed')];
    let clears = 0;
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (!input.UpdateExpression!.startsWith('REMOVE')) return table.update(input);
      clears++;
      throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    });
    await run(NOW);
    expect(clears).toBe(1);
    expect(logLines.filter((l) => l.message.startsWith('Published, but could not clear'))).toHaveLength(1);
  });

  it('stores what a change owes in the same write as the change, held by the run until it ends', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 3 })];
    dynamoMock.resetHistory();
    // The run is cut off right after its writes: everything after them fails.
    eventsMock.on(PutEventsCommand).rejects(new Error('killed'));
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (!input.UpdateExpression!.startsWith('SET #states')) throw new Error('killed');
      return table.update(input);
    });
    const deadline = { at: new Date(NOW.getTime() + 55_000), signal: new AbortController().signal };
    await expect(run(NOW, deadline, WITH_EVENTS)).rejects.toThrow(/could not send 1 job events/);
    const [owed] = table.owed(POOL);
    expect(owed).toMatchObject({
      jobId: 'import-0000000001',
      attribute: 'Owed_2',
      entry: {
        Token: table.job(POOL, 'import-0000000001')!.WriteId,
        LeaseUntil: '2026-11-25T12:01:00.000Z', // the function's end: the deadline plus its 5 s margin
        At: NOW.toISOString(),
        Counts: { Completed: 'Failed', ImportedUsers: 3, SkippedUsers: 0, FailedUsers: 0 },
      },
    });
    expect(JSON.parse(owed.entry.Event)).toMatchObject({ eventKey: `${POOL}/import-0000000001/Failed`, status: 'Failed' });
    // One write stored the change and what it owes.
    const writes = dynamoMock.commandCalls(UpdateCommand).map((c) => c.args[0].input.UpdateExpression!);
    expect(writes.filter((w) => w.startsWith('SET #states'))).toEqual([expect.stringMatching(/^SET #states = .*#owed = :owed$/)]);
  });

  it('publishes what a run killed after its writes left, once, after that run has ended', async () => {
    jobs = [job(1, 'InProgress'), job(2, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 3 }), job(2, 'Succeeded', { ImportedUsers: 8499 })];
    await killedBeforePublishing();

    // A run while the killed one may still be running leaves its entries alone.
    const during = await run(new Date(NOW.getTime() + 60_000), undefined, WITH_EVENTS);
    expect(during.summary).toMatchObject({ owedPublished: 0, stillOwed: 2 });
    expect(completed(during.emf, 'Failed')).toBe(0);
    expect(sentDetails()).toEqual([]);

    const after = await run(LATER, undefined, WITH_EVENTS);
    expect(after.summary).toMatchObject({ changesStored: 0, owedPublished: 2, leftoversPublished: 2, eventsSent: 2, stillOwed: 0 });
    expect(completed(after.emf, 'Failed')).toBe(1);
    expect(completed(after.emf, 'Succeeded')).toBe(1);
    expect(sumOf(after.emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(8502);
    expect(sentDetails().map((d) => d.eventKey).sort()).toEqual([`${POOL}/import-0000000001/Failed`, `${POOL}/import-0000000002/Succeeded`]);
    // Sent with the time of the change, published with the time of the run that publishes.
    expect(eventsMock.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Time).toEqual(NOW);
    expect(table.owed(POOL)).toEqual([]);

    const again = await run(new Date(LATER.getTime() + 60_000), undefined, WITH_EVENTS);
    expect(completed(again.emf, 'Failed') + completed(again.emf, 'Succeeded')).toBe(0);
    expect(sentDetails()).toHaveLength(2);
  });

  it('counts a write that landed though its answer was lost and the read that checks it failed, in a later run', async () => {
    // The user's report: under heavy DynamoDB faults, one Succeeded transition and 8,499 imported users were
    // never counted. The write landed, its answer was lost, the retry failed its condition, and the GetItem
    // that should have recognised it failed too: the run took it as stored by another run.
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Succeeded', { ImportedUsers: 8499 })];
    loseFirstUpdateAnswer();
    dynamoMock.on(GetCommand).rejectsOnce(new Error('InternalServerError'));
    // The run cannot tell whether it stored the change: it fails without a heartbeat, so the pool stays due.
    await expect(run()).rejects.toThrow(/UpdateItem bucket #jobs#00 \(jobs import-0000000001\): could not tell whether it landed/);
    expect(completed(parseEmf(stdout), 'Succeeded')).toBe(0);
    expect(heartbeats(parseEmf(stdout))).toEqual([]);

    const later = await run(LATER);
    expect(completed(later.emf, 'Succeeded')).toBe(1);
    expect(sumOf(later.emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(8499);
    expect(completed((await run(new Date(LATER.getTime() + 60_000))).emf, 'Succeeded')).toBe(0);
  });

  it('lets one of two runs take over an entry left behind', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed')];
    await killedBeforePublishing();
    // Another run takes the entry over between our read and our claim.
    dynamoMock.on(QueryCommand).callsFake((input) => {
      const result = table.query(input);
      table.bucket(POOL, 'import-0000000001')!.Owed_2.Token = 'the other run';
      return result;
    });
    const { summary, emf } = await run(LATER, undefined, WITH_EVENTS);
    expect(summary).toMatchObject({ leftoversPublished: 0, owedPublished: 0 });
    expect(completed(emf, 'Failed')).toBe(0);
    expect(table.owed(POOL)).toEqual([expect.objectContaining({ attribute: 'Owed_2', entry: expect.objectContaining({ Token: 'the other run' }) })]);
  });

  it('keeps the counts and drops the event of an entry left while events were on, once they are off', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed')];
    await killedBeforePublishing();
    const { summary, emf } = await run(LATER);
    expect(completed(emf, 'Failed')).toBe(1);
    expect(summary).toMatchObject({ eventsSent: 0, stillOwed: 0 });
    expect(table.owed(POOL)).toEqual([]);
  });

  it('publishes no count once its deadline has passed, leaving them to the run that takes them over', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 3 })];
    const controller = new AbortController();
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      const result = table.update(input);
      controller.abort(); // the deadline passes as the store lands: every later call would be cut off
      return result;
    });
    const deadline = { at: new Date(Date.now() + 1_000), signal: controller.signal };
    await expect(run(NOW, deadline)).rejects.toThrow(/deadline passed before it published 1 owed entries/);
    expect(completed(parseEmf(stdout), 'Failed')).toBe(0);
    expect(table.owed(POOL)).toHaveLength(1);
    dynamoMock.on(UpdateCommand).callsFake((input) => table.update(input));
    const later = await run(new Date(Date.now() + 60_000));
    expect(completed(later.emf, 'Failed')).toBe(1);
    expect(sumOf(later.emf, `ImportedUsers{UserPoolId=${POOL}}`)).toBe(3);
    expect(completed((await run(new Date(Date.now() + 120_000))).emf, 'Failed')).toBe(0);
  });

  it('stays due and publishes no heartbeat when it cannot tell whether it took over an entry', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed')];
    await killedBeforePublishing();
    loseFirstUpdateAnswer();
    dynamoMock.on(GetCommand).rejectsOnce(new Error('InternalServerError'));
    const unsure = await run(LATER);
    expect(unsure.summary).toMatchObject({ owedPublished: 0, stillOwed: 1 });
    expect(heartbeats(unsure.emf)).toEqual([]);
    // Its claim had landed: the entry is published once that claim's lease has ended too.
    const later = await run(new Date(LATER.getTime() + 16 * 60_000));
    expect(completed(later.emf, 'Failed')).toBe(1);
    expect(table.owed(POOL)).toEqual([]);
  });

  it('owes nothing for a first run of old jobs', async () => {
    jobs = [job(1, 'Succeeded', { ImportedUsers: 5 }), job(2, 'Created')];
    await run(NOW, undefined, WITH_EVENTS);
    expect(table.owed(POOL)).toEqual([]);
    expect(sentDetails()).toEqual([]);
  });
});

describe('job events', () => {
  it('sends each status change with the fields docs/events.md documents, to the bus, at the time of the change', async () => {
    jobs = [job(1, 'InProgress', { StartDate: new Date('2026-01-01T00:10:00Z') })];
    await run(NOW, undefined, WITH_EVENTS);
    jobs = [
      job(1, 'Failed', {
        StartDate: new Date('2026-01-01T00:10:00Z'),
        ImportedUsers: 30,
        SkippedUsers: 1,
        FailedUsers: 2,
        CompletionMessage: 'Bad CSV header',
      }),
      job(2, 'Created'),
    ];
    const later = new Date(NOW.getTime() + 60_000);
    await run(later, undefined, WITH_EVENTS);
    const [call] = eventsMock.commandCalls(PutEventsCommand);
    expect(call.args[0].input.Entries).toEqual([
      expect.objectContaining({ Source: 'import-job-monitor', DetailType: 'Cognito User Import Job State Change', EventBusName: BUS, Time: later }),
      expect.objectContaining({ Source: 'import-job-monitor', EventBusName: BUS }),
    ]);
    expect(sentDetails()).toEqual([
      {
        eventKey: `${POOL}/import-0000000001/Failed`,
        userPoolId: POOL,
        jobId: 'import-0000000001',
        jobName: 'job-1',
        previousStatus: 'InProgress',
        status: 'Failed',
        importedUsers: 30,
        skippedUsers: 1,
        failedUsers: 2,
        completionMessage: 'Bad CSV header',
        creationDate: '2026-01-01T00:00:00.000Z',
        startDate: '2026-01-01T00:10:00.000Z',
        completionDate: '2026-01-01T01:00:00.000Z',
      },
      {
        eventKey: `${POOL}/import-0000000002/Created`,
        userPoolId: POOL,
        jobId: 'import-0000000002',
        jobName: 'job-2',
        previousStatus: null,
        status: 'Created',
        importedUsers: 0,
        skippedUsers: 0,
        failedUsers: 0,
        creationDate: '2026-01-01T00:00:00.000Z',
      },
    ]);
  });

  it("says where the job's own import log is when the job has a logs role", async () => {
    const role = { CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImportLogs' };
    cognitoMock.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, Name: 'tenants' } });
    jobs = [job(1, 'InProgress', role)];
    await baseline();
    jobs = [job(1, 'Failed', role), job(2, 'Failed')];
    await run(NOW, undefined, WITH_EVENTS);
    expect(sentDetails().map((d) => d.importLog)).toEqual([
      { logGroupName: `/aws/cognito/userpools/${POOL}/tenants`, logStreamName: 'import-0000000001/job-1' },
      undefined,
    ]);
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(1);
  });

  it("reads the pool's name once: later runs take it from the state table", async () => {
    const role = { CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImportLogs' };
    cognitoMock.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, Name: 'tenants' } });
    jobs = [job(1, 'InProgress', role), job(2, 'InProgress', role)];
    await baseline();
    jobs = [job(1, 'Failed', role), job(2, 'InProgress', role)];
    await run(NOW, undefined, WITH_EVENTS);
    jobs = [job(1, 'Failed', role), job(2, 'Succeeded', role)];
    await run(NOW, undefined, WITH_EVENTS);
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(1);
    expect(sentDetails().map((d) => d.importLog?.logGroupName)).toEqual([`/aws/cognito/userpools/${POOL}/tenants`, `/aws/cognito/userpools/${POOL}/tenants`]);
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ UserPoolName: 'tenants' });
  });

  it("reads the pool's name in its first run with events on, so that the first job to end later asks for nothing", async () => {
    const role = { CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImportLogs' };
    cognitoMock.on(DescribeUserPoolCommand).resolves({ UserPool: { Id: POOL, Name: 'tenants' } });
    jobs = [job(1, 'InProgress', role)];
    // A fleet's first run does not (it would spend a paced call on each pool of its first tick); a single pool's does.
    await run(NOW, undefined, WITH_EVENTS);
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(0);
    table.items.clear();
    await run(NOW, undefined, WITH_EVENTS, { nameOnFirstRun: true });
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(1);
    expect(table.item(POOL, '#jobs#00')).toMatchObject({ UserPoolName: 'tenants' });
    jobs = [job(1, 'Failed', role)];
    await run(NOW, undefined, WITH_EVENTS);
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(1);
    expect(sentDetails().map((d) => d.importLog?.logGroupName)).toEqual([`/aws/cognito/userpools/${POOL}/tenants`]);
  });

  it("reads the pool's name again when the first run could not, and only then warns", async () => {
    const role = { CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImportLogs' };
    cognitoMock.on(DescribeUserPoolCommand).rejectsOnce(new NotAuthorizedException({ message: 'not authorized', $metadata: {} })).resolves({ UserPool: { Id: POOL, Name: 'tenants' } });
    jobs = [job(1, 'InProgress', role)];
    await run(NOW, undefined, WITH_EVENTS, { nameOnFirstRun: true });
    expect(logLines.filter((l) => l.level === 'WARN')).toEqual([]);
    jobs = [job(1, 'Failed', role)];
    await run(NOW, undefined, WITH_EVENTS);
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(2);
    expect(sentDetails().map((d) => d.importLog?.logGroupName)).toEqual([`/aws/cognito/userpools/${POOL}/tenants`]);
  });

  it("sends the event without the import log, and warns, when the pool's name cannot be read", async () => {
    const role = { CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CognitoImportLogs' };
    cognitoMock.on(DescribeUserPoolCommand).rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }));
    jobs = [job(1, 'InProgress', role)];
    await baseline();
    jobs = [job(1, 'Failed', role)];
    const { summary } = await run(NOW, undefined, WITH_EVENTS);
    expect(summary.eventsSent).toBe(1);
    expect(sentDetails()[0].importLog).toBeUndefined();
    expect(logLines).toContainEqual(expect.objectContaining({ level: 'WARN', message: expect.stringMatching(/pool's name/) }));
  });

  it('sends 23 events in calls of at most 10', async () => {
    jobs = Array.from({ length: 23 }, (_, i) => job(i, 'Created'));
    await baseline();
    jobs = Array.from({ length: 23 }, (_, i) => job(i, 'Pending'));
    await run(NOW, undefined, WITH_EVENTS);
    expect(eventsMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.length)).toEqual([10, 10, 3]);
    expect(new Set(sentDetails().map((d) => d.eventKey)).size).toBe(23);
  });

  it('sends again only the entries the bus rejected, and owes nothing once it took them', async () => {
    jobs = [job(1, 'Created'), job(2, 'Created'), job(3, 'Created')];
    await baseline();
    jobs = [job(1, 'Pending'), job(2, 'Pending'), job(3, 'Pending')];
    eventsMock.on(PutEventsCommand).callsFakeOnce((input: PutEventsCommandInput) => ({
      FailedEntryCount: 1,
      Entries: input.Entries!.map((_, i) => (i === 1 ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' } : { EventId: `e${i}` })),
    })).callsFake(acceptAll);
    const { summary } = await run(NOW, undefined, WITH_EVENTS);
    const calls = eventsMock.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).jobId));
    expect(calls).toEqual([['import-0000000001', 'import-0000000002', 'import-0000000003'], ['import-0000000002']]);
    expect(summary).toMatchObject({ eventsSent: 3, stillOwed: 0 });
    expect(logLines).toContainEqual(
      expect.objectContaining({ level: 'WARN', fields: expect.objectContaining({ errorCode: 'ThrottlingException', eventKey: `${POOL}/import-0000000002/Pending` }) }),
    );
    expect(table.owed(POOL)).toEqual([]);
  });

  it('publishes the counts, keeps the event owed and fails the run without a heartbeat when the bus keeps refusing', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed', { ImportedUsers: 4 })];
    eventsMock.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
      FailedEntryCount: input.Entries!.length,
      Entries: input.Entries!.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' })),
    }));
    const deadline = { at: new Date(Date.now() + 1_000), signal: new AbortController().signal };
    const error = await run(NOW, deadline, WITH_EVENTS).catch((e) => e);
    expect(error.message).toMatch(/could not send 1 job events for user pool eu-west-1_AbC123 \(the event bus rejected 1 job events \d+ times\); they stay owed/);
    const published = parseEmf(stdout);
    expect(completed(published, 'Failed')).toBe(1);
    expect(heartbeats(published)).toEqual([]);
    // The debt left is visible: OwedEntries, which an operator can alarm on.
    expect(sumOf(published, `OwedEntries{UserPoolId=${POOL}}`)).toBe(1);
    // Only the event is left: the counts went out and were cleared.
    const [owed] = table.owed(POOL);
    expect(owed.entry.Counts).toBeUndefined();
    expect(JSON.parse(owed.entry.Event).status).toBe('Failed');

    eventsMock.on(PutEventsCommand).callsFake(acceptAll);
    eventsMock.resetHistory();
    // The run held it until its function's end, a few seconds on.
    const later = await run(new Date(Date.now() + 60_000), undefined, WITH_EVENTS);
    expect(later.summary).toMatchObject({ leftoversPublished: 1, eventsSent: 1, stillOwed: 0 });
    expect(completed(later.emf, 'Failed')).toBe(0);
    expect(sentDetails().map((d) => d.eventKey)).toEqual([`${POOL}/import-0000000001/Failed`]);
  });

  it('sends nothing and stores no event when events are off', async () => {
    jobs = [job(1, 'InProgress')];
    await baseline();
    jobs = [job(1, 'Failed')];
    await run();
    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(0);
    expect(cognitoMock.commandCalls(DescribeUserPoolCommand)).toHaveLength(0);
    const stored = dynamoMock
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues![':owed'])
      .filter(Boolean)
      .flatMap((owed) => decodeEntries(owed.Entries));
    expect(stored).toEqual([expect.objectContaining({ Counts: expect.objectContaining({ Completed: 'Failed' }) })]);
    expect(stored[0].Event).toBeUndefined();
  });
});

describe("a single pool's Cognito calls", () => {
  const saved = { ...process.env };
  // Identities are resolved before the build step that answers: any will do.
  beforeAll(() => Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' }));
  afterAll(() => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  /**
   * The client the handler makes for the pool, sending for real through its own middleware (not the mock's stub of
   * `send`), and answered by a last step of its build: the pages of `jobs`, each at the time it was let through.
   */
  function pacedClient(env: Record<string, string> = {}) {
    const client = createClients(readConfig({ USER_POOL_ID: POOL, STATE_TABLE_NAME: 'state', SCHEDULE_SECONDS: '300', ...env })).cognito;
    const unmockedSend = Object.getPrototypeOf(CognitoIdentityProviderClient.prototype).send;
    client.send = unmockedSend.bind(client);
    const sentAt: number[] = [];
    client.middlewareStack.add(
      () => async (args: any) => {
        sentAt.push(Date.now());
        return { output: { ...servePages(args.input), $metadata: {} }, response: {} };
      },
      { step: 'build', priority: 'low', name: 'answerPages' },
    );
    return { client, sentAt };
  }

  it('are paced like a fleet pool\'s, at 10 a second by default: a listing of many pages takes its time', async () => {
    jobs = Array.from({ length: 300 }, (_, n) => job(n, 'Succeeded'));
    const { client, sentAt } = pacedClient();
    const started = Date.now();
    const summary = await runOnce({ cognito: client, dynamodb, config: CONFIG, now: NOW, log });
    expect(summary.complete).toBe(true);
    expect(sentAt).toHaveLength(6);
    // Five slots of 100 ms after the run started, the first call's slot no earlier than that. Measured from the start,
    // not between calls: on a busy machine a call's timestamp lags its slot (a timer fires late, never early), so the
    // gap after a late one shrinks, but the last call cannot come before its slot. 5 ms for timers' rounding.
    expect(sentAt[5] - started).toBeGreaterThanOrEqual(495);
  });

  it('are paced at COGNITO_REQUESTS_PER_SECOND when it is set', async () => {
    jobs = Array.from({ length: 150 }, (_, n) => job(n, 'Succeeded'));
    const { client, sentAt } = pacedClient({ COGNITO_REQUESTS_PER_SECOND: '4' });
    const started = Date.now();
    await runOnce({ cognito: client, dynamodb, config: CONFIG, now: NOW, log });
    expect(sentAt).toHaveLength(3);
    expect(sentAt[2] - started).toBeGreaterThanOrEqual(495); // two slots of 250 ms after the start, as above
  });
});
