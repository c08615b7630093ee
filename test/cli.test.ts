/**
 * The CLI as shipped (assets/cli/index.js), run in its own process against the loopback Cognito
 * (test/support/fake-cognito.ts): paging, the gauges the monitor publishes, --since, the fleet forms and each error.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';
import { App, Stack, aws_cloudwatch as cloudwatch, aws_cognito as cognito } from 'aws-cdk-lib';
import { ImportJobMonitor } from '../lib';
import { COMPLETED_STATUSES, UNFINISHED_STATUSES } from '../lib/contract';
import { computeFigures, countWarnings } from '../lambda/figures';
import { checkJobs } from '../lambda/job-check';
import { FakeJob, NOT_AUTHORIZED, THROTTLED, makeJob } from './support/fake-cognito';
import { sumOf } from './support/emf';
import { loopbackForSuite } from './support/loopback';

const CLI = path.join(__dirname, '..', 'assets', 'cli', 'index.js');
const world = loopbackForSuite();
const HOUR = 3_600_000;

// An empty home and empty AWS config files: nothing of the machine's own AWS setup reaches the CLI.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-home-'));
const emptyConfig = path.join(home, 'config');
fs.writeFileSync(emptyConfig, '');
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the bundled CLI with dummy credentials and the loopback Cognito; `env` values undefined are left out. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  const merged: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: home,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: world.cognitoEndpoint,
    AWS_CONFIG_FILE: emptyConfig,
    AWS_SHARED_CREDENTIALS_FILE: emptyConfig,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...env,
  };
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined)),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started }));
  });
}

/** The ListUserImportJobs requests the fake received for a pool. */
const listings = (pool: string) => world.cognito.requests.filter((r) => r.target.endsWith('.ListUserImportJobs') && r.body.UserPoolId === pool);
const poolListings = () => world.cognito.requests.filter((r) => r.target.endsWith('.ListUserPools'));

const ago = (ms: number) => new Date(Date.now() - ms);

/** A job as the fake lists it, `hours` old, ended `endedHoursAgo` ago when it has ended. */
function job(n: number, status: string, hours: number, overrides: Partial<FakeJob> = {}): FakeJob {
  return makeJob(n, status, { CreationDate: ago(hours * HOUR), CompletionDate: undefined, ...overrides });
}

/** A pool of every kind of job: ended, running, waiting, stuck, one whose count is a string; `count` in all. */
function varied(count: number): FakeJob[] {
  const jobs: FakeJob[] = [
    job(0, 'Created', 13),
    job(1, 'Created', 1),
    job(2, 'InProgress', 20, { StartDate: ago(19 * HOUR), ImportedUsers: 40 }),
    job(3, 'Pending', 2, { StartDate: ago(2 * HOUR) }),
    job(4, 'Failed', 3, { StartDate: ago(3 * HOUR), CompletionDate: ago(2 * HOUR), ImportedUsers: 3, FailedUsers: 9, CompletionMessage: 'Bad CSV header' }),
    job(5, 'Expired', 50, { CompletionDate: ago(10 * HOUR) }),
    job(6, 'Stopped', 30, { StartDate: ago(29 * HOUR), CompletionDate: ago(28 * HOUR), ImportedUsers: 7, SkippedUsers: 1 }),
    job(7, 'Succeeded', 40, { StartDate: ago(39 * HOUR), CompletionDate: ago(38 * HOUR), ImportedUsers: '12' as unknown as number }),
  ];
  for (let n = jobs.length; n < count; n++) {
    jobs.push(job(n, 'Succeeded', 100 + n, { StartDate: ago((99 + n) * HOUR), CompletionDate: ago((98 + n) * HOUR), ImportedUsers: n, SkippedUsers: n % 3, FailedUsers: n % 2 }));
  }
  return jobs;
}

/** The fake's jobs as the SDK gives them to the handler. */
const asListed = (jobs: FakeJob[]) => jobs.map((j) => ({ ...j }) as UserImportJobType);

describe('import-job-monitor status', () => {
  it('prints its usage, options and exit codes with --help, and the package version with --version', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: import-job-monitor status --user-pool-id <id>/);
    for (const option of ['--region', '--json', '--since', '--discover', '--include', '--exclude']) expect(help.stdout).toContain(option);
    expect(help.stdout).toMatch(/Exit codes:\n  0 .*\n  1 .*\n  2 .*\n  3 /);
    const version = await cli(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version}\n` });
  });

  it('lists every page of a pool of 137 jobs, a row per job, paced', async () => {
    const pool = 'eu-west-1_Paging1';
    world.cognito.pools.set(pool, varied(137));
    const run = await cli(['status', '--user-pool-id', pool]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rows = run.stdout.split('\n').filter((line) => line.startsWith('import-'));
    expect(rows).toHaveLength(137);
    expect(new Set(rows.map((r) => r.split(/\s+/)[0]))).toEqual(new Set(world.cognito.pools.get(pool)!.map((j) => j.JobId)));
    // Newest first, with the pool's line above.
    expect(rows[0]).toMatch(/^import-0000000001\s+job-1\s+Created\s/);
    expect(run.stdout).toContain(`User pool ${pool} in eu-west-1: 137 import jobs in 3 pages of ListUserImportJobs`);
    expect(rows.find((r) => r.startsWith('import-0000000004'))).toMatch(/Failed\s+3\s+0\s+9\s+.*Bad CSV header$/);
    expect(rows.find((r) => r.startsWith('import-0000000000'))).toContain('awaiting start > 12h');
    // Three pages, each following the last's token, at most 10 calls a second (the handler's pace).
    const calls = listings(pool);
    expect(calls.map((c) => [c.body.MaxResults, c.body.PaginationToken === undefined])).toEqual([[60, true], [60, false], [60, false]]);
    // Started 100 ms apart; measured from the second arrival (the first also opens the connection), with slack for a
    // loaded machine: unpaced, each page follows the last's answer within a few ms.
    expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(70);
  });

  it('prints JSON of every job as Cognito lists it, and the gauges the bundled handler publishes from the same listing', async () => {
    const pool = 'eu-west-1_Json1';
    const jobs = varied(75);
    world.cognito.pools.set(pool, jobs);
    const run = await cli(['status', '--user-pool-id', pool, '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ userPoolId: pool, region: 'eu-west-1', pages: 2, jobCount: 75 });
    expect(out.jobs).toHaveLength(75);
    const byId = new Map<string, any>(out.jobs.map((j: any) => [j.jobId, j]));
    for (const j of jobs) {
      expect(byId.get(j.JobId)).toMatchObject({
        jobName: j.JobName,
        status: j.Status,
        importedUsers: j.ImportedUsers,
        skippedUsers: j.SkippedUsers,
        failedUsers: j.FailedUsers,
        creationDate: j.CreationDate.toISOString(),
        startDate: j.StartDate?.toISOString() ?? null,
        completionDate: j.CompletionDate?.toISOString() ?? null,
      });
    }
    expect(byId.get('import-0000000007').problems).toEqual(['ImportedUsers is not a count from 0 to 2^53-1: "12"']);
    expect(byId.get('import-0000000000')).toMatchObject({ awaitingStart: true, stuck: false });
    expect(byId.get('import-0000000002')).toMatchObject({ awaitingStart: false, stuck: true });

    // The handler's own figures code over the same jobs...
    const now = new Date();
    const { valid, invalid } = checkJobs(asListed(jobs), now);
    const limits = { awaitingStartMs: 12 * HOUR, stuckMs: 12 * HOUR };
    expect(out.metrics).toEqual({
      Jobs: computeFigures(valid, []).jobs,
      JobsAwaitingStart: countWarnings(valid, now, limits).awaitingStart,
      JobsStuck: countWarnings(valid, now, limits).stuck,
      InvalidJobs: invalid.length,
    });
    // ...which is what these jobs make, counted by hand...
    expect(out.metrics).toEqual({
      Jobs: { Created: 2, Pending: 1, InProgress: 1, Stopping: 0, Succeeded: 67, Failed: 1, Stopped: 1, Expired: 1 },
      JobsAwaitingStart: 1,
      JobsStuck: 1,
      InvalidJobs: 1,
    });
    // ...and what the bundled handler publishes when it lists the pool.
    const handlerRun = await world.invoke(pool);
    expect(handlerRun.exitCode).toBe(0);
    // A gauge for each status in flight; of ended statuses none (an ended job stays listed), though the CLI counts them.
    for (const status of UNFINISHED_STATUSES) expect(sumOf(handlerRun.emf, `Jobs{UserPoolId=${pool},Status=${status}}`)).toBe(out.metrics.Jobs[status]);
    for (const status of COMPLETED_STATUSES) expect(sumOf(handlerRun.emf, `Jobs{UserPoolId=${pool},Status=${status}}`)).toBe(0);
    for (const name of ['JobsAwaitingStart', 'JobsStuck', 'InvalidJobs']) expect(sumOf(handlerRun.emf, `${name}{UserPoolId=${pool}}`)).toBe(out.metrics[name]);
  });

  it('exits 1 with --since when a job failed within it, and 0 when none did', async () => {
    const pool = 'eu-west-1_Since1';
    world.cognito.pools.set(pool, [
      job(1, 'Failed', 3, { StartDate: ago(3 * HOUR), CompletionDate: ago(2 * HOUR) }),
      job(2, 'Expired', 40, { CompletionDate: ago(5 * HOUR) }),
      job(3, 'Succeeded', 1, { StartDate: ago(HOUR), CompletionDate: ago(0.5 * HOUR) }),
    ]);
    const within1h = await cli(['status', '--user-pool-id', pool, '--since', '1h']);
    expect(within1h.code).toBe(0);
    expect(within1h.stdout).toContain('Failed or expired within 1h: none.');
    const within3h = await cli(['status', '--user-pool-id', pool, '--since', '3h']);
    expect(within3h.code).toBe(1);
    expect(within3h.stdout).toMatch(/Failed or expired within 3h: 1 job: import-0000000001 \(job-1, Failed 2h( \d+m)? ago\)\./);
    const within1d = await cli(['status', '--user-pool-id', pool, '--since', '1d', '--json']);
    expect(within1d.code).toBe(1);
    expect(JSON.parse(within1d.stdout)).toMatchObject({ since: { duration: '1d' }, failedSince: ['import-0000000001', 'import-0000000002'] });
    expect((await cli(['status', '--user-pool-id', pool, '--since', '270m'])).code).toBe(1);
    expect((await cli(['status', '--user-pool-id', pool, '--since', '90m'])).code).toBe(0);
  });

  it('fails with exit 2 and names the bad value of a duration, a pool ID or an option, asking Cognito nothing', async () => {
    const before = world.cognito.requests.length;
    const cases: [string[], RegExp][] = [
      [['status', '--user-pool-id', 'eu-west-1_Ok1', '--since', '2x'], /--since must be a duration such as 30m, 24h or 7d .*got "2x"/],
      [['status', '--user-pool-id', 'eu-west-1_Ok1', '--since', '0h'], /--since must be .*got "0h"/],
      [['status', '--user-pool-id', 'not-a-pool'], /--user-pool-id must be a user pool ID such as eu-west-1_AbC123 \(its region, an underscore, letters and digits\), got "not-a-pool"/],
      [['status', '--user-pool-id', 'eu-west-1_Ok1,eu-west-1_bad-id'], /got "eu-west-1_bad-id"/],
      [['status', '--user-pool-id', 'eu-west-1_Ok1', '--region', 'us-east-1'], /--region us-east-1 is not the region of user pool eu-west-1_Ok1 \(eu-west-1\)/],
      [['status', '--user-pool-id', 'eu-west-1_Ok1', '--verbose'], /Unknown option '--verbose'/],
      [['status'], /status needs --user-pool-id <id> \(one or more\), or --discover/],
      [['list'], /unknown command "list"/],
      [['status', '--include', 'tenant-*'], /--include and --exclude select pools for --discover/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain('Run import-job-monitor --help');
    }
    expect(world.cognito.requests.length).toBe(before);
  });

  it('says that a pool is not found in its region, exit 3', async () => {
    const run = await cli(['status', '--user-pool-id', 'eu-west-1_Missing1']);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^import-job-monitor: user pool eu-west-1_Missing1 not found in region eu-west-1: check the ID/);
  });

  it('names the IAM action that access was denied to: ListUserImportJobs, and ListUserPools for --discover', async () => {
    const pool = 'eu-west-1_Denied1';
    world.cognito.pools.set(pool, [job(1, 'Succeeded', 5)]);
    world.cognito.poolErrors.set(pool, { type: 'AccessDeniedException', status: 400, message: `User: arn:aws:iam::123456789012:user/x is not authorized to perform: cognito-idp:ListUserImportJobs` });
    try {
      const run = await cli(['status', '--user-pool-id', pool]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        /access denied: the credentials may not call cognito-idp:ListUserImportJobs on user pool eu-west-1_Denied1: allow that action on arn:aws:cognito-idp:eu-west-1:<account>:userpool\/eu-west-1_Denied1/,
      );
    } finally {
      world.cognito.poolErrors.delete(pool);
    }
    world.cognito.failNext(NOT_AUTHORIZED);
    const discover = await cli(['status', '--discover', '--region', 'eu-west-1']);
    expect(discover.code).toBe(3);
    expect(discover.stderr).toMatch(/access denied: the credentials may not call cognito-idp:ListUserPools: allow that action on "\*"/);
  });

  it('tells how to give credentials when there are none, without waiting on the instance metadata service', async () => {
    const pool = 'eu-west-1_NoCreds1';
    world.cognito.pools.set(pool, [job(1, 'Succeeded', 5)]);
    const before = listings(pool).length;
    const run = await cli(['status', '--user-pool-id', pool], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^import-job-monitor: no AWS credentials found: set AWS_PROFILE .* or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
    expect(run.ms).toBeLessThan(15_000);
    expect(listings(pool).length).toBe(before);
  });

  it('retries a throttled call, and lists the pool all the same', async () => {
    const pool = 'eu-west-1_Throttled1';
    world.cognito.pools.set(pool, varied(60));
    world.cognito.failNext(THROTTLED, THROTTLED, THROTTLED);
    const run = await cli(['status', '--user-pool-id', pool, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).jobs).toHaveLength(60);
    // Two pages, the first asked for four times.
    expect(listings(pool).map((c) => c.body.PaginationToken === undefined)).toEqual([true, true, true, true, false]);
  });

  it('prints a line per listed pool, a pool that cannot be listed among them, exit 3', async () => {
    const [a, b] = ['eu-west-1_FleetA1', 'us-east-1_FleetB1'];
    world.cognito.pools.set(a, varied(12));
    world.cognito.pools.set(b, [job(1, 'InProgress', 1, { StartDate: ago(HOUR) })]);
    const ok = await cli(['status', '--user-pool-id', `${a},${b}`]);
    expect(ok.code).toBe(0);
    const lines = ok.stdout.split('\n');
    expect(lines[0]).toMatch(/^2 user pools listed, at /);
    expect(lines[2]).toMatch(/^POOL ID\s+NAME\s+JOBS\s+Created\s+Pending\s+InProgress\s+Stopping\s+Expired\s+Stopped\s+Failed\s+Succeeded\s+AWAITING START\s+STUCK\s+INVALID\s+NOTE$/);
    expect(lines[3].split(/\s+/)).toEqual([a, '-', '12', '2', '1', '1', '0', '1', '1', '1', '4', '1', '1', '1']);
    expect(lines[4].split(/\s+/)).toEqual([b, '-', '1', '0', '0', '1', '0', '0', '0', '0', '0', '0', '0', '0']);
    // Each pool is called in its own region.
    expect(listings(b).map((r) => r.region)).toEqual(['us-east-1']);

    const missing = 'eu-west-1_FleetGone1';
    const some = await cli(['status', '--user-pool-id', a, '--user-pool-id', missing, '--user-pool-id', b, '--json']);
    expect(some.code).toBe(3);
    expect(some.stderr).toContain(`user pool ${missing} not found in region eu-west-1`);
    const out = JSON.parse(some.stdout);
    expect(out.pools.map((p: any) => [p.userPoolId, p.jobCount ?? p.error.name])).toEqual([[a, 12], [missing, 'ResourceNotFoundException'], [b, 1]]);
    expect(out.pools[0].metrics).toMatchObject({ Jobs: { Failed: 1, Expired: 1 }, JobsAwaitingStart: 1, JobsStuck: 1, InvalidJobs: 1 });
    // A job that failed within --since wins over a pool that could not be listed.
    expect((await cli(['status', '--user-pool-id', `${a},${missing}`, '--since', '3h'])).code).toBe(1);
  });

  it('discovers the pools of a region that the patterns select, a line each, with their names', async () => {
    const region = 'ap-south-1';
    const pools = { [`${region}_Disc1`]: 'tenant-a', [`${region}_Disc2`]: 'tenant-b', [`${region}_Disc3`]: 'tenant-b-sandbox', [`${region}_Disc4`]: 'ops' };
    for (const [id, name] of Object.entries(pools)) {
      world.cognito.pools.set(id, [job(1, 'Failed', 2, { CompletionDate: ago(HOUR) })]);
      world.cognito.names.set(id, name);
    }
    // A tenant of another region is not this region's.
    world.cognito.pools.set('ap-east-1_Disc5', []);
    world.cognito.names.set('ap-east-1_Disc5', 'tenant-c');
    const before = poolListings().length;
    const run = await cli(['status', '--discover', '--include', 'tenant-*', '--exclude', '*-sandbox', '--region', region]);
    expect(run.code).toBe(0);
    const rows = run.stdout.split('\n').filter((l) => l.startsWith(region) || l.startsWith('ap-east-1'));
    expect(rows.map((r) => r.split(/\s+/).slice(0, 3))).toEqual([[`${region}_Disc1`, 'tenant-a', '1'], [`${region}_Disc2`, 'tenant-b', '1']]);
    expect(run.stdout).toMatch(/^2 user pools discovered in ap-south-1 \(include tenant-\*\) \(exclude \*-sandbox\)/);
    expect(poolListings().slice(before).map((r) => [r.region, r.body.MaxResults])).toEqual([[region, 60]]);

    // The region defaults to AWS_REGION's; --since counts across the pools.
    const json = await cli(['status', '--discover', '--exclude', 'ops', '--since', '2h', '--json'], { AWS_REGION: region });
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out.pools.map((p: any) => [p.userPoolId, p.name, p.failedSince])).toEqual([
      [`${region}_Disc1`, 'tenant-a', ['import-0000000001']],
      [`${region}_Disc2`, 'tenant-b', ['import-0000000001']],
      [`${region}_Disc3`, 'tenant-b-sandbox', ['import-0000000001']],
    ]);
  });

  it('is what the alarm descriptions point to: the command they give lists the pool, the job they page for flagged', async () => {
    const pool = 'eu-west-1_Paged1';
    const stack = new Stack(new App(), 'Cli', { env: { account: '123456789012', region: 'eu-west-1' } });
    const single = new ImportJobMonitor(stack, 'Monitor', { userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', pool) });
    const fleet = new ImportJobMonitor(stack, 'Fleet', { discoverUserPools: { include: ['tenant-*'] }, metricNamespace: 'Tenants/UserImportJobs' });
    const description = (alarm?: cloudwatch.Alarm) => JSON.stringify(stack.resolve((alarm!.node.defaultChild as cloudwatch.CfnAlarm).alarmDescription));
    const command = (text: string) => /npx import-job-monitor (status --user-pool-id [^ ,]+?)[.,]? /.exec(text)?.[1].split(' ');
    world.cognito.pools.set(pool, [job(1, 'Created', 13), job(2, 'InProgress', 14, { StartDate: ago(13 * HOUR), ImportedUsers: 5 })]);

    const awaiting = command(description(single.expiringJobsAlarm));
    expect(awaiting).toEqual(['status', '--user-pool-id', pool]);
    const stuck = command(description(single.stuckJobsAlarm));
    expect(stuck).toEqual(awaiting);
    const run = await cli(awaiting!);
    expect(run.code).toBe(0);
    const rows = run.stdout.split('\n').filter((line) => line.startsWith('import-'));
    expect(rows[0]).toMatch(/^import-0000000001 .*awaiting start > 12h/);
    expect(rows[1]).toMatch(/^import-0000000002 .*running > 12h/);
    for (const alarm of [single.failedJobsAlarm, single.expiredJobsAlarm, single.failedUsersAlarm]) expect(command(description(alarm))).toEqual(awaiting);
    // A fleet's alarm names the pool as its contributor: the command takes it in place of <pool id>.
    for (const alarm of [fleet.expiringJobsAlarm, fleet.stuckJobsAlarm, fleet.failedJobsAlarm, fleet.expiredJobsAlarm, fleet.failedUsersAlarm]) {
      expect(description(alarm)).toContain('npx import-job-monitor status --user-pool-id <pool id>');
    }
  });
});
