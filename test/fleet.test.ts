/** A fleet's tick, with mocked clients: which pools it selects, in which order it runs them, how many at once. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CognitoIdentityProviderClient,
  ListUserImportJobsCommand,
  ListUserPoolsCommand,
  NotAuthorizedException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { FleetConfig, isSelected, readConfig, readFleetConfig, runFleet } from '../lambda';
import { rateLimiter } from '../lambda/clients';
import { parseEmf, sumOf } from './support/emf';
import { MemoryTable } from './support/memory-table';

const cognitoMock = mockClient(CognitoIdentityProviderClient);
const dynamoMock = mockClient(DynamoDBDocumentClient);
const cognito = new CognitoIdentityProviderClient({ region: 'eu-west-1' });
const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const ENV = { STATE_TABLE_NAME: 'state', SCHEDULE_SECONDS: '300', MONITOR_NAME: 'tenants' };
const log = { info: () => {}, warn: () => {}, error: () => {} };
let table: MemoryTable;

beforeEach(() => {
  cognitoMock.reset();
  dynamoMock.reset();
  table = new MemoryTable();
  dynamoMock.on(QueryCommand).callsFake((input) => table.query(input));
  dynamoMock.on(PutCommand).callsFake((input) => table.put(input));
  dynamoMock.on(UpdateCommand).callsFake((input) => table.update(input));
  dynamoMock.on(GetCommand).callsFake((input) => table.get(input));
  dynamoMock.on(DeleteCommand).callsFake((input) => table.delete(input));
  jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => jest.restoreAllMocks());

function tick(fleet: FleetConfig, options: { scheduled?: boolean; deadlineMs?: number } = {}) {
  const deadline = options.deadlineMs === undefined ? undefined : { at: new Date(Date.now() + options.deadlineMs), signal: new AbortController().signal };
  return runFleet({ clients: { dynamodb }, cognitoFor: () => cognito, fleet, log, deadline, scheduled: options.scheduled ?? false });
}

describe('isSelected', () => {
  const select = (include: string[], exclude: string[] = []) =>
    ['eu-west-1_Aa1', 'eu-west-1_Bb2', 'eu-west-1_Cc3'].filter((id, i) => isSelected(id, ['tenant-a', 'tenant-b', 'ops.internal'][i], { include, exclude }));

  it('selects every pool without patterns', () => expect(select([])).toEqual(['eu-west-1_Aa1', 'eu-west-1_Bb2', 'eu-west-1_Cc3']));
  it('matches a pattern against the ID or the name', () => expect(select(['tenant-*', '*_Cc3'])).toEqual(['eu-west-1_Aa1', 'eu-west-1_Bb2', 'eu-west-1_Cc3']));
  it('lets an exclude pattern win', () => expect(select(['*'], ['tenant-b'])).toEqual(['eu-west-1_Aa1', 'eu-west-1_Cc3']));
  it('takes every character but * literally', () => expect(select(['ops?internal', 'ops.*'])).toEqual(['eu-west-1_Cc3']));
  it('matches the whole ID or name, not a part', () => expect(select(['tenant'])).toEqual([]));
});

describe('readFleetConfig', () => {
  it('reads a list, once each, and the shared settings', () => {
    const fleet = readFleetConfig({ ...ENV, USER_POOL_IDS: 'eu-west-1_A1, us-east-1_B2,eu-west-1_A1' });
    expect(fleet).toMatchObject({ monitorName: 'tenants', source: { kind: 'list', userPoolIds: ['eu-west-1_A1', 'us-east-1_B2'] } });
    expect(fleet.settings).toMatchObject({ tableName: 'state', scheduleMs: 300_000 });
    expect(fleet.cognitoRequestsPerSecond).toBe(10);
  });

  it('reads a list too long for the environment from the file beside the handler', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pools-'));
    const ids = Array.from({ length: 1_000 }, (_, i) => `eu-west-1_Tenant${i}`);
    fs.writeFileSync(path.join(dir, 'user-pools.json'), JSON.stringify(ids));
    const fleet = readFleetConfig({ ...ENV, USER_POOL_IDS_FILE: 'user-pools.json' }, dir);
    expect(fleet.source).toEqual({ kind: 'list', userPoolIds: ids });
    fs.writeFileSync(path.join(dir, 'user-pools.json'), JSON.stringify({ ids }));
    expect(() => readFleetConfig({ ...ENV, USER_POOL_IDS_FILE: 'user-pools.json' }, dir)).toThrow(
      'USER_POOL_IDS_FILE must name a JSON array of user pool IDs, got "user-pools.json"',
    );
  });

  it.each([
    [{ USER_POOL_IDS: 'eu-west-1_A1,not-a-pool' }, 'USER_POOL_IDS must list user pool IDs such as eu-west-1_AbC123, separated by commas, got "not-a-pool"'],
    [
      { USER_POOL_IDS: 'eu-west-1_A1', DISCOVER_USER_POOLS: '{}' },
      'exactly one of USER_POOL_ID, USER_POOL_IDS, USER_POOL_IDS_FILE and DISCOVER_USER_POOLS must be set, got USER_POOL_IDS, DISCOVER_USER_POOLS',
    ],
    [
      { USER_POOL_IDS: 'eu-west-1_A1', USER_POOL_ID: 'eu-west-1_A1' },
      'exactly one of USER_POOL_ID, USER_POOL_IDS, USER_POOL_IDS_FILE and DISCOVER_USER_POOLS must be set, got USER_POOL_ID, USER_POOL_IDS',
    ],
    [{ USER_POOL_IDS_FILE: 'missing.json' }, 'USER_POOL_IDS_FILE must name a JSON file beside the handler, got "missing.json"'],
    [{ DISCOVER_USER_POOLS: '{"exclude":[""]}' }, 'DISCOVER_USER_POOLS must be JSON such as {"include":["tenant-*"],"exclude":[]}, lists of non-empty patterns, got "{\\"exclude\\":[\\"\\"]}"'],
    [{ DISCOVER_USER_POOLS: '{}', MONITOR_NAME: '' }, 'MONITOR_NAME must name the monitor, got ""'],
    [{ DISCOVER_USER_POOLS: '{}', COGNITO_REQUESTS_PER_SECOND: '0' }, 'COGNITO_REQUESTS_PER_SECOND must be a number of calls a second from 1 to 1000, got "0"'],
    [{ DISCOVER_USER_POOLS: '{}', COGNITO_REQUESTS_PER_SECOND: '0.0001' }, 'COGNITO_REQUESTS_PER_SECOND must be a number of calls a second from 1 to 1000, got "0.0001"'],
  ])('fails on %j, naming the value', (env, message) => {
    expect(() => readFleetConfig({ ...ENV, ...env })).toThrow(message);
  });

  it("holds a single pool's rate to the same range", () => {
    const single = { STATE_TABLE_NAME: 'state', SCHEDULE_SECONDS: '300', USER_POOL_ID: 'eu-west-1_AbC123' };
    expect(readConfig({ ...single, COGNITO_REQUESTS_PER_SECOND: '2' }).cognitoRequestsPerSecond).toBe(2);
    expect(() => readConfig({ ...single, COGNITO_REQUESTS_PER_SECOND: '0.5' })).toThrow(
      'COGNITO_REQUESTS_PER_SECOND must be a number of calls a second from 1 to 1000, got "0.5"',
    );
  });
});

describe('runFleet', () => {
  const pools = Array.from({ length: 6 }, (_, i) => `eu-west-1_P${i}`);

  it('publishes what a pool that left the fleet still owes, then forgets its due time', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z'), doNotFake: ['setTimeout', 'setInterval', 'setImmediate', 'nextTick', 'queueMicrotask'] });
    let stdout = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      stdout += String(chunk);
      return true;
    });
    const job = (status: string) => ({ JobId: 'import-0000000001', JobName: 'j', Status: status, CreationDate: new Date('2026-11-25T11:00:00Z'), ImportedUsers: 4 }) as any;
    let left = [job('InProgress')];
    cognitoMock.on(ListUserImportJobsCommand).callsFake(async (input) => ({ UserImportJobs: input.UserPoolId === 'eu-west-1_Left1' ? left : [] }));
    const both = readFleetConfig({ ...ENV, USER_POOL_IDS: 'eu-west-1_Stay1,eu-west-1_Left1' });
    await tick(both);
    // Its job fails; the run publishes it but cannot clear it (a clear denied), and the pool then leaves the fleet.
    left = [job('Failed')];
    dynamoMock.on(UpdateCommand).callsFake((input) => {
      if (input.UpdateExpression!.startsWith('REMOVE')) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client' });
      return table.update(input);
    });
    await tick(both);
    expect(table.owed('eu-west-1_Left1')).toHaveLength(1);
    dynamoMock.on(UpdateCommand).callsFake((input) => table.update(input));

    jest.setSystemTime(new Date('2026-11-25T12:20:00Z'));
    stdout = '';
    await tick(readFleetConfig({ ...ENV, USER_POOL_IDS: 'eu-west-1_Stay1' }));
    expect(sumOf(parseEmf(stdout), 'JobsCompleted{UserPoolId=eu-west-1_Left1,Status=Failed}')).toBe(1);
    expect(table.owed('eu-west-1_Left1')).toEqual([]);
    expect(table.items.has('#cadence|eu-west-1_Left1')).toBe(false);
    expect(table.items.has('#cadence|eu-west-1_Stay1')).toBe(true);
    jest.useRealTimers();
  });

  describe("the fleet's heartbeat", () => {
    const fleet = () => readFleetConfig({ ...ENV, ACTIVE_SCHEDULE_SECONDS: '60', USER_POOL_IDS: 'eu-west-1_H1,eu-west-1_H2' });
    let stdout = '';
    beforeEach(() => {
      stdout = '';
      jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
        stdout += String(chunk);
        return true;
      });
    });
    const heartbeat = () => sumOf(parseEmf(stdout), 'Heartbeat{Monitor=tenants}');
    const overdue = (minutes: number) => {
      for (const id of ['eu-west-1_H1', 'eu-west-1_H2']) {
        table.items.set(`#cadence|${id}`, { UserPoolId: '#cadence', JobId: id, NextRunAt: new Date(Date.now() - minutes * 60_000).toISOString() });
      }
    };

    it('is 1 when a pool fails but its failure is stored: PoolRunsFailed names it', async () => {
      cognitoMock.on(ListUserImportJobsCommand).rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }));
      await tick(fleet());
      expect(heartbeat()).toBe(1);
      expect(sumOf(parseEmf(stdout), 'PoolRunsFailed{UserPoolId=eu-west-1_H1}')).toBe(1);
    });

    it('is 0 when the table refuses to store a failed run, whose count could then never grow', async () => {
      cognitoMock.on(ListUserImportJobsCommand).rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: {} }));
      dynamoMock.on(PutCommand).rejects(new Error('AccessDeniedException'));
      await tick(fleet());
      expect(heartbeat()).toBe(0);
    });

    it('is 0 when a scheduled tick leaves for later a pool overdue by more than the schedule and a tick, not before', async () => {
      cognitoMock.on(ListUserImportJobsCommand).resolves({ UserImportJobs: [] });
      overdue(7);
      // 9 s left: less than the 10 s a pool is given, so none starts.
      await tick(fleet(), { scheduled: true, deadlineMs: 9_000 });
      expect(heartbeat()).toBe(0);
      stdout = '';
      overdue(5);
      await tick(fleet(), { scheduled: true, deadlineMs: 9_000 });
      expect(heartbeat()).toBe(1);
      // The deployment's run may fall behind: the next ticks catch up.
      stdout = '';
      overdue(7);
      await tick(fleet(), { scheduled: false, deadlineMs: 9_000 });
      expect(heartbeat()).toBe(1);
    });
  });

  it('reports a pool that no longer exists for 10 runs, counting its failures in a row, then lists it every schedule, quietly', async () => {
    const fleet = readFleetConfig({ ...ENV, USER_POOL_IDS: 'eu-west-1_P0,eu-west-1_Gone1' });
    let exists = false;
    cognitoMock.on(ListUserImportJobsCommand).callsFake(async (input) => {
      if (input.UserPoolId === 'eu-west-1_Gone1' && !exists) throw new ResourceNotFoundException({ message: 'User pool does not exist', $metadata: {} });
      return { UserImportJobs: [] };
    });
    const cadence = () => table.items.get('#cadence|eu-west-1_Gone1')!;
    const fromNow = (iso: string) => new Date(iso).getTime() - Date.now();

    for (let run = 1; run <= 10; run++) {
      const summary = await tick(fleet);
      expect(summary).toMatchObject({ failed: [{ userPoolId: 'eu-west-1_Gone1' }], gone: 0 });
      expect(cadence().FailedRuns).toBe(run);
      expect(fromNow(cadence().NextRunAt)).toBeLessThanOrEqual(60_000);
    }

    // Reported long enough: no longer a failure, and listed again after the schedule (5 minutes).
    expect(await tick(fleet)).toMatchObject({ failed: [], gone: 1, ran: 2 });
    expect(fromNow(cadence().NextRunAt)).toBeGreaterThan(290_000);
    expect(fromNow(cadence().NextRunAt)).toBeLessThanOrEqual(300_000);

    // Back: monitored as before, its count of failures dropped.
    exists = true;
    expect(await tick(fleet)).toMatchObject({ failed: [], gone: 0 });
    expect(cadence().FailedRuns).toBeUndefined();
  });

  it('runs at most four pools at once, and goes on past a pool that fails', async () => {
    let running = 0;
    let most = 0;
    cognitoMock.on(ListUserImportJobsCommand).callsFake(async (input) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      if (input.UserPoolId === 'eu-west-1_P1') throw new NotAuthorizedException({ message: 'not authorized', $metadata: {} });
      return { UserImportJobs: [] };
    });
    const summary = await tick(readFleetConfig({ ...ENV, USER_POOL_IDS: pools.join(',') }));
    expect(most).toBe(4);
    expect(summary).toMatchObject({ pools: 6, ran: 6, failed: [{ userPoolId: 'eu-west-1_P1', error: expect.stringMatching(/^NotAuthorizedException/) }] });
    expect([...table.items.keys()]).toContain('#cadence|eu-west-1_P5');
    // Due again at the next tick, one active interval on.
    const retry = new Date(table.items.get('#cadence|eu-west-1_P1')!.NextRunAt).getTime() - Date.now();
    expect(retry).toBeGreaterThan(50_000);
    expect(retry).toBeLessThanOrEqual(60_000);
  });

  describe('on a clock of its own', () => {
    afterEach(() => jest.useRealTimers());

    /** Runs a tick to its end on fake timers: `ms` of (fake) time pass at most. */
    async function tickOnFakeTime(fleet: FleetConfig, options: { scheduled?: boolean; deadlineMs?: number }, ms = 200_000) {
      const result = tick(fleet, options);
      await jest.advanceTimersByTimeAsync(ms);
      return result;
    }

    it('leaves the pools it has no time for to the next tick, which starts with them', async () => {
      jest.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z') });
      const order: string[] = [];
      cognitoMock.on(ListUserImportJobsCommand).callsFake(async (input) => {
        order.push(input.UserPoolId!);
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { UserImportJobs: [] };
      });
      const fleet = readFleetConfig({ ...ENV, USER_POOL_IDS: pools.join(',') });
      // 10.2 s left: four pools start; when they end, 300 ms on, less than the 10 s a pool needs is left.
      const first = await tickOnFakeTime(fleet, { deadlineMs: 10_200 });
      expect(first).toMatchObject({ due: 6, ran: 4, deferred: 2 });
      order.length = 0;
      jest.setSystemTime(Date.now() + 60_000);
      const next = await tickOnFakeTime(fleet, { scheduled: true });
      expect(next).toMatchObject({ due: 2, ran: 2 });
      expect(order).toEqual(['eu-west-1_P4', 'eu-west-1_P5']);
    });

    it('runs the pools that waited before those that failed, so pools failing slowly starve no other', async () => {
      jest.useFakeTimers({ now: new Date('2026-11-25T12:00:00Z') });
      const ran: string[][] = [];
      cognitoMock.on(ListUserImportJobsCommand).callsFake(async (input) => {
        ran[ran.length - 1].push(input.UserPoolId!);
        // P0 to P3 hang for 46 s, then fail; P4 and P5 answer at once.
        if (Number(input.UserPoolId!.slice(-1)) < 4) {
          await new Promise((resolve) => setTimeout(resolve, 46_000));
          throw new NotAuthorizedException({ message: 'not authorized', $metadata: {} });
        }
        return { UserImportJobs: [] };
      });
      const fleet = readFleetConfig({ ...ENV, USER_POOL_IDS: pools.join(',') });
      ran.push([]);
      const first = await tickOnFakeTime(fleet, { deadlineMs: 55_000 });
      expect(first).toMatchObject({ ran: 4, deferred: 2 });
      ran.push([]);
      // A later tick: the failing pools are due again, but the two that waited go first.
      const second = await tickOnFakeTime(fleet, { scheduled: true, deadlineMs: 55_000 });
      expect(ran[1].slice(0, 2)).toEqual(['eu-west-1_P4', 'eu-west-1_P5']);
      expect(second).toMatchObject({ ran: 6, deferred: 0 });
    });
  });

  it('discovers the pools of its region through every page of ListUserPools', async () => {
    cognitoMock.on(ListUserPoolsCommand).callsFake((input) => {
      const start = Number(input.NextToken ?? 0);
      const page = Array.from({ length: 130 }, (_, i) => ({ Id: `eu-west-1_D${i}`, Name: i % 2 ? 'tenant' : 'ops' })).slice(start, start + input.MaxResults!);
      return { UserPools: page, NextToken: start + input.MaxResults! < 130 ? String(start + input.MaxResults!) : undefined };
    });
    cognitoMock.on(ListUserImportJobsCommand).resolves({ UserImportJobs: [] });
    const summary = await tick(readFleetConfig({ ...ENV, DISCOVER_USER_POOLS: '{"include":["tenant"]}' }));
    expect(cognitoMock.commandCalls(ListUserPoolsCommand).map((c) => c.args[0].input.MaxResults)).toEqual([60, 60, 60]);
    expect(summary).toMatchObject({ pools: 65, ran: 65 });
  });

  it('names a failed call of its own for the monitor, with its page, each page under the deadline', async () => {
    const signal = new AbortController().signal;
    cognitoMock
      .on(ListUserPoolsCommand)
      .resolvesOnce({ UserPools: [], NextToken: 'page-2' })
      .rejects(new NotAuthorizedException({ message: 'not authorized', $metadata: { attempts: 1 } }));
    const fleet = readFleetConfig({ ...ENV, DISCOVER_USER_POOLS: '{}' });
    const deadline = { at: new Date(Date.now() + 60_000), signal };
    await expect(runFleet({ clients: { dynamodb }, cognitoFor: () => cognito, fleet, log, deadline, scheduled: false })).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'ListUserPools page 2 for monitor tenants failed after 1 attempt: NotAuthorizedException: not authorized',
      operation: 'ListUserPools page 2',
      monitor: 'tenants',
    });
    expect(cognitoMock.commandCalls(ListUserPoolsCommand).map((c) => (c.args as unknown[])[1])).toEqual([{ abortSignal: signal }, { abortSignal: signal }]);
  });
});

describe('rateLimiter', () => {
  afterEach(() => jest.useRealTimers());

  it('lets calls through at most the given number a second, in the order they came', async () => {
    jest.useFakeTimers({ now: 0 });
    const wait = rateLimiter(10);
    const released: number[] = [];
    const calls = Array.from({ length: 5 }, (_, i) => wait().then(() => released.push(i * 1000 + Date.now())));
    await jest.advanceTimersByTimeAsync(1_000);
    await Promise.all(calls);
    expect(released).toEqual([0, 1100, 2200, 3300, 4400]);
  });
});

describe('isSelected, in linear time', () => {
  // The RegExp the patterns once became: the reference for patterns short enough not to backtrack for long.
  const byRegExp = (pattern: string, text: string) =>
    new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`).test(text);
  const only = (pattern: string, name: string) => isSelected('eu-west-1_X1', name, { include: [pattern], exclude: [] });

  it('refuses an adversarial pattern against a 128-character name at once, rather than backtracking for ever', () => {
    const name = 'a'.repeat(128);
    expect(only('*a*a*a*a*a*a*a*a*a*a*a*b', name)).toBe(false);
    expect(only('*a*a*a*a*a*a*a*a*a*a*a*a', name)).toBe(true);
    expect(isSelected(name, name, { include: ['*'], exclude: ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b'] })).toBe(true);
  });

  it.each([
    ['*', '', true],
    ['a*', 'a', true],
    ['*a', 'a', true],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['ab*ba', 'aba', false],
    ['**', 'x', true],
    ['t*-*-*x', 'tenant-a-b-x', true],
    ['t*-*-*x', 'tenant-abx', false],
    ['*.*', 'ops.internal', true],
    ['ops?internal', 'ops.internal', false],
  ])('matches %j against %j: %j', (pattern, name, expected) => {
    expect(only(pattern, name)).toBe(expected);
  });

  it('agrees with a RegExp on every pattern and name of up to 5 characters of a, b and *', () => {
    // Every string of 0 to `length` characters of the alphabet.
    const strings = (alphabet: string, length: number): string[] =>
      length === 0 ? [''] : ['', ...strings(alphabet, length - 1).flatMap((s) => [...alphabet].map((c) => c + s))];
    const patterns = [...new Set(strings('ab*', 5))].filter((p) => p !== '');
    const names = [...new Set(strings('ab', 5))];
    const disagreements = patterns.flatMap((p) => names.filter((n) => only(p, n) !== byRegExp(p, n)).map((n) => [p, n]));
    expect(disagreements).toEqual([]);
  });
});

describe('discovered pool IDs', () => {
  const eventsMock = mockClient(EventBridgeClient);
  afterAll(() => eventsMock.restore());
  beforeEach(() => {
    eventsMock.reset();
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  });

  it('leaves out a pool whose ID is not a user pool ID, warning once a tick with the ID escaped, never publishing or sending it', async () => {
    const forged = 'eu-west-1_Bad\n{"level":"ERROR","message":"forged"}';
    cognitoMock.on(ListUserPoolsCommand).resolves({
      UserPools: [
        { Id: 'eu-west-1_Good1', Name: 'tenant-a' },
        { Id: forged, Name: 'tenant-b' },
        { Id: 'not-a-pool', Name: 'tenant-c' },
        // Not selected: not the monitor's business, not warned about.
        { Id: 'also not a pool', Name: 'ops' },
      ],
    });
    cognitoMock.on(ListUserImportJobsCommand).resolves({ UserImportJobs: [] });
    let stdout = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => {
      stdout += String(chunk);
      return true;
    });
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const record = (level: string) => (message: string, fields: Record<string, unknown>) => lines.push({ level, message, fields });
    const fleet = readFleetConfig({ ...ENV, DISCOVER_USER_POOLS: '{"include":["tenant-*"]}', EVENT_BUS_NAME: 'default' });
    const events = new EventBridgeClient({ region: 'eu-west-1' });
    const summary = await runFleet({
      clients: { dynamodb, events },
      cognitoFor: () => cognito,
      fleet,
      log: { info: record('INFO'), warn: record('WARN'), error: record('ERROR') },
      scheduled: false,
    });

    expect(summary).toMatchObject({ pools: 1, ran: 1, failed: [] });
    expect(cognitoMock.commandCalls(ListUserImportJobsCommand).map((c) => c.args[0].input.UserPoolId)).toEqual(['eu-west-1_Good1']);
    const dimensions = parseEmf(stdout).flatMap((r) => r._aws.CloudWatchMetrics.flatMap((d) => d.Dimensions.flat().map((name) => r[name])));
    expect(dimensions).toContain('tenants');
    expect(dimensions.filter((value) => value !== 'tenants' && value !== 'eu-west-1_Good1')).toEqual([]);
    expect(eventsMock.commandCalls(PutEventsCommand)).toEqual([]);
    const warnings = lines.filter((l) => l.level !== 'INFO');
    expect(warnings).toEqual([
      {
        level: 'WARN',
        message: expect.stringMatching(/^Left out 2 discovered pools whose IDs are not user pool IDs/),
        fields: { userPoolIds: JSON.stringify([forged, 'not-a-pool']) },
      },
    ]);
  });
});
