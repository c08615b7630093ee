/**
 * The monitor's pages, proved over simulated time: the bundled handler runs tick by tick against the loopback world
 * (test/support/simulation.ts), the metrics it prints become datapoints, and the alarms of a synthesized stack are
 * evaluated over them as CloudWatch would (test/support/alarm-evaluator.ts). Each `describe` is one promise of
 * README.md's alarm table and docs/alarms.md; each scenario says when, and on which topic, someone is paged.
 *
 * Times are of one simulated day, 2026-03-02 (UTC). Datapoints reach CloudWatch 30 s after their run.
 * `E2E_VERBOSE=1` prints each scenario's transitions.
 */
import { App, Duration, Stack, aws_cloudwatch_actions as cw_actions, aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor, ImportJobMonitorProps } from '../lib';
import { AlarmEvaluator, EvaluatorOptions, Transition, alarmsOf } from './support/alarm-evaluator';
import { sumOf } from './support/emf';
import { FakeJob, INTERNAL_ERROR, InjectedError, NOT_AUTHORIZED } from './support/fake-cognito';
import { Loopback, loopbackForEachTest } from './support/loopback';
import { SimulatedMonitor, SimulatedTick, Timeline, TimelineOptions, runTimeline } from './support/simulation';

const DAY = Date.UTC(2026, 2, 2);
const MINUTE = 60_000;
/** A time of the simulated day: `at('03:00')`, `at('00:00:20')`. */
const at = (time: string): number => {
  const [h, m, s = 0] = time.split(':').map(Number);
  return DAY + ((h * 60 + m) * 60 + s) * 1000;
};
/** A simulated time as the day's clock, `03:01:20`. */
const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);

const INGEST_DELAY_MS = 30_000;
const POOL = 'eu-west-1_AbC123';
const FLEET_SERIES_VISIBLE_AFTER_MS = 10 * MINUTE;
/** Deployed at midnight: the deployment's run, the alarms created 20 s later, the first tick at 00:01. */
const DEPLOYED_AT_MIDNIGHT = { deployAt: at('00:00'), alarmsCreatedAt: at('00:00:20'), from: at('00:01') };

// ---------------------------------------------------------------------------------------------------------------------
// The stack, the world and the run

interface Stage {
  readonly template: Record<string, any>;
  /** The topics' ARNs as the template refers to them: what an alarm's actions hold. */
  readonly failTopic: unknown;
  readonly warnTopic: unknown;
}

/**
 * A stack with a monitor of `pools` (one ID: a single pool; a list: a fleet), its alarms to the fail topic, or with
 * `routeWarnings` its warnings (JobAwaitingStart, JobStuck, UsersFailed) to the warning topic.
 */
function stage(pools: string | string[], props: Partial<ImportJobMonitorProps> = {}, { routeWarnings = false } = {}): Stage {
  const stack = new Stack(new App(), 'Pages', { env: { account: '123456789012', region: 'eu-west-1' } });
  const fail = new sns.Topic(stack, 'FailTopic');
  const warn = new sns.Topic(stack, 'WarnTopic');
  const pool = (id: string) => cognito.UserPool.fromUserPoolId(stack, `Pool-${id}`, id);
  new ImportJobMonitor(stack, 'Monitor', {
    ...(typeof pools === 'string' ? { userPool: pool(pools) } : { userPools: pools.map(pool) }),
    alarmActions: [new cw_actions.SnsAction(fail)],
    ...(routeWarnings ? { warningActions: [new cw_actions.SnsAction(warn)] } : {}),
    ...props,
  });
  return { template: Template.fromStack(stack).toJSON(), failTopic: stack.resolve(fail.topicArn), warnTopic: stack.resolve(warn.topicArn) };
}

let world: Loopback;
loopbackForEachTest((started) => (world = started));

type Scenario = Omit<TimelineOptions, 'monitor' | 'evaluator'> & { readonly evaluator?: EvaluatorOptions };

/** Runs the stage's monitor over the scenario's timeline, its alarms evaluated as it goes. */
async function simulate({ template }: Stage, scenario: Scenario): Promise<Timeline> {
  const monitor = await SimulatedMonitor.create(world, template);
  const evaluator = new AlarmEvaluator(alarmsOf(template), scenario.evaluator);
  const timeline = await runTimeline({ ingestDelayMs: INGEST_DELAY_MS, ...scenario, monitor, evaluator });
  if (process.env.E2E_VERBOSE) {
    const realMs = timeline.ticks.reduce((total, tick) => total + tick.realMs, 0);
    console.log(
      `${expect.getState().currentTestName}: ${timeline.ticks.length} ticks, ${Math.round(realMs)} ms of handler\n` +
        timeline.transitions.map(readable).join('\n'),
    );
  }
  return timeline;
}

// ---------------------------------------------------------------------------------------------------------------------
// Jobs, and how the world changes over time

/** An import job, its dates as times of the day. */
function importJob(
  n: number,
  status: string,
  dates: { created: string; started?: string; completed?: string },
  users: { imported?: number; failed?: number } = {},
): FakeJob {
  return {
    JobId: `import-${String(n).padStart(10, '0')}`,
    JobName: `job-${n}`,
    Status: status,
    CreationDate: new Date(at(dates.created)),
    StartDate: dates.started ? new Date(at(dates.started)) : undefined,
    CompletionDate: dates.completed ? new Date(at(dates.completed)) : undefined,
    ImportedUsers: users.imported ?? 0,
    SkippedUsers: 0,
    FailedUsers: users.failed ?? 0,
  };
}

/**
 * The jobs of each pool over time: from each time given, the pools listed then hold those jobs (an empty list: none);
 * a pool not listed keeps its jobs. The timeline's `before` hook.
 */
function jobsOver(script: Record<string, Record<string, FakeJob[]>>): (t: number) => void {
  const steps = Object.entries(script)
    .map(([time, pools]) => ({ from: at(time), pools }))
    .sort((a, b) => a.from - b.from);
  let next = 0;
  return (t) => {
    for (; next < steps.length && steps[next].from <= t; next++) {
      for (const [pool, jobs] of Object.entries(steps[next].pools)) world.cognito.pools.set(pool, jobs);
    }
  };
}

/** Every ListUserImportJobs of `pool` answers `error` from `from` until `until` (exclusive; for ever without). */
function cognitoFails(pool: string, error: InjectedError, from: string, until?: string): (t: number) => void {
  return (t) => {
    if (t >= at(from) && (until === undefined || t < at(until))) world.cognito.poolErrors.set(pool, error);
    else world.cognito.poolErrors.delete(pool);
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Reading the transitions

/** The alarm's short name, `JobFailed` for `ImportJobs-eu-west-1_AbC123-JobFailed`. */
const shortName = (t: Transition): string => t.alarmName.slice(t.alarmName.lastIndexOf('-') + 1);

/** The alarms' own transitions (not their contributors'), of one alarm when named, into one state when given. */
function transitions(timeline: Timeline, alarm?: string, to?: string): Transition[] {
  return timeline.transitions.filter(
    (t) => t.contributor === undefined && (alarm === undefined || shortName(t) === alarm) && (to === undefined || t.to === to),
  );
}

/** Transitions into ALARM: the pages. */
const pages = (timeline: Timeline, alarm?: string): Transition[] => transitions(timeline, alarm, 'ALARM');

/** The pages of every alarm but those named, as `readable` lines: what must be empty. */
const pagesBut = (timeline: Timeline, ...alarms: string[]): string[] =>
  pages(timeline)
    .filter((t) => !alarms.includes(shortName(t)))
    .map(readable);

/** `03:01:20 JobFailed OK -> ALARM [eu-west-1_A]`: what a failed assertion shows. */
function readable(t: Transition): string {
  const who = t.contributor !== undefined ? ` (${t.contributor})` : t.contributors.length > 0 ? ` [${t.contributors.length} in ALARM]` : '';
  return `${clock(t.at)} ${shortName(t)}${who} ${t.from} -> ${t.to}: ${t.reason}`;
}

/** The ticks that failed, as `01:00 NotAuthorizedException`. */
/** The transition that takes the alarm out of the ALARM state `page` put it in. */
const leavesAlarm = (timeline: Timeline, alarm: string, page: Transition): Transition | undefined =>
  transitions(timeline, alarm).find((t) => t.at > page.at && t.from === 'ALARM' && t.contributor === undefined);

const failedTicks = (timeline: Timeline): string[] =>
  timeline.ticks.filter((tick) => tick.error !== undefined).map((tick) => `${clock(tick.at).slice(0, 5)} ${(tick.error as Error).name}`);

/** The alarm's description in the template, its references (the log group's name) shown as `<ref>`. */
function descriptionOf({ template }: Stage, alarm: string): string {
  const resource = Object.values<any>(template.Resources).find(
    (r) => r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties.AlarmName).endsWith(`-${alarm}`),
  );
  if (!resource) throw new Error(`no alarm ${alarm} in the template`);
  const text = (part: unknown): string => (typeof part === 'string' ? part : '<ref>');
  const description = resource.Properties.AlarmDescription;
  return typeof description === 'string' ? description : description['Fn::Join'][1].map(text).join(description['Fn::Join'][0]);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> {
      /** The transition happened between two times of the day, both included. */
      toHappenBetween(from: string, to: string): R;
    }
  }
}

expect.extend({
  toHappenBetween(transition: Transition | undefined, from: string, to: string) {
    const pass = transition !== undefined && transition.at >= at(from) && transition.at <= at(to);
    const what = transition === undefined ? 'no transition' : readable(transition);
    return { pass, message: () => `expected ${what} ${pass ? 'not ' : ''}to happen between ${from} and ${to}` };
  },
});

/** How long after `since` the transition came, as `2 min 20 s`. */
function latency(transition: Transition, since: string): string {
  const seconds = Math.round((transition.at - at(since)) / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

// ---------------------------------------------------------------------------------------------------------------------

describe('a new monitor pages nobody', () => {
  it('created with the deployment run: no alarm goes to ALARM in its first two hours, and the health alarm turns OK', async () => {
    const single = stage(POOL);
    world.cognito.pools.set(POOL, []);
    const timeline = await simulate(single, { deployAt: at('00:00'), alarmsCreatedAt: at('00:00:20'), from: at('00:01'), to: at('02:00') });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline).map(readable)).toEqual([]);
    expect(transitions(timeline, 'MonitorSilent', 'OK')[0]).toHappenBetween('00:00', '00:10');
  });

  it('created without it (runOnDeploy: false): no alarm goes to ALARM before or after the first tick', async () => {
    const single = stage(POOL, { runOnDeploy: false });
    world.cognito.pools.set(POOL, []);
    const timeline = await simulate(single, { alarmsCreatedAt: at('00:00'), from: at('00:01'), to: at('02:00') });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline).map(readable)).toEqual([]);
    expect(transitions(timeline, 'MonitorSilent', 'OK')[0]).toHappenBetween('00:00', '00:10');
  });
});

describe('a failed job pages once, within minutes of its end, on the fail topic', () => {
  const FAILED = `JobsCompleted{UserPoolId=${POOL},Status=Failed}`;

  it('pages at 03:00 and again at 04:00 for a second job, each once even when a run is published twice', async () => {
    const single = stage(POOL);
    world.cognito.pools.set(POOL, []);
    const first = { created: '02:29', started: '02:30' };
    const second = { created: '03:29', started: '03:30' };
    const timeline = await simulate(single, {
      deployAt: at('02:00'),
      alarmsCreatedAt: at('02:00:20'),
      from: at('02:01'),
      to: at('04:20'),
      before: jobsOver({
        '02:30': { [POOL]: [importJob(1, 'InProgress', first)] },
        '03:00': { [POOL]: [importJob(1, 'Failed', { ...first, completed: '03:00' })] },
        '03:30': { [POOL]: [importJob(2, 'InProgress', second), importJob(1, 'Failed', { ...first, completed: '03:00' })] },
        '04:00': { [POOL]: [importJob(2, 'Failed', { ...second, completed: '04:00' }), importJob(1, 'Failed', { ...first, completed: '03:00' })] },
      }),
      // A run killed between publishing and clearing leaves its counts to be published again: the same datapoint, twice.
      duplicates: (tick: SimulatedTick) => (sumOf(tick.emf, FAILED) > 0 ? [INGEST_DELAY_MS + MINUTE] : []),
    });

    expect(failedTicks(timeline)).toEqual([]);
    // Each failure was published by one run, and that run's datapoint delivered twice.
    expect(timeline.ticks.filter((tick) => sumOf(tick.emf, FAILED) > 0).map((tick) => clock(tick.at))).toEqual(['03:00:00', '04:00:00']);

    expect(pages(timeline, 'JobFailed').map(readable)).toHaveLength(2);
    const [page, again] = pages(timeline, 'JobFailed');
    expect(page).toHappenBetween('03:00', '03:03');
    expect(page.actions).toEqual([single.failTopic]);
    expect(descriptionOf(single, 'JobFailed')).toContain(POOL);
    // It returns to OK by itself, so that the next failure pages again.
    expect(transitions(timeline, 'JobFailed', 'OK').find((t) => t.at > page.at)).toHappenBetween('03:03', '04:00');
    expect(again).toHappenBetween('04:00', '04:03');
    expect(again.actions).toEqual([single.failTopic]);
    expect(pagesBut(timeline, 'JobFailed')).toEqual([]);
    if (process.env.E2E_VERBOSE) console.log(`JobFailed latency: ${latency(page, '03:00')}, then ${latency(again, '04:00')}`);
  });
});

describe('a monitor that stopped working pages within minutes; a passing fault pages nobody', () => {
  // 500s rather than throttling: under TooManyRequestsException the SDK's adaptive retries wait for their client-side
  // rate limit in real time, about 13 s a tick, as they would in Lambda.
  it('Cognito failing (500s) for three ticks in a row pages nobody', async () => {
    const single = stage(POOL);
    world.cognito.pools.set(POOL, []);
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('01:30'),
      before: cognitoFails(POOL, INTERNAL_ERROR, '01:00', '01:03'),
    });

    expect(failedTicks(timeline)).toEqual(['01:00 InternalErrorException', '01:01 InternalErrorException', '01:02 InternalErrorException']);
    expect(pages(timeline).map(readable)).toEqual([]);
  });

  it('a function that fails every tick from 01:00 pages MonitorSilent by 01:07, on the fail topic', async () => {
    const single = stage(POOL);
    world.cognito.pools.set(POOL, []);
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('01:30'),
      before: cognitoFails(POOL, NOT_AUTHORIZED, '01:00'),
    });

    expect(failedTicks(timeline)[0]).toBe('01:00 NotAuthorizedException');
    const page = pages(timeline, 'MonitorSilent').find((t) => t.at >= at('01:00'));
    expect(page).toHappenBetween('01:00', '01:07');
    expect(page!.actions).toEqual([single.failTopic]);
    expect(descriptionOf(single, 'MonitorSilent')).toContain(POOL);
    expect(pages(timeline).map(readable)).toHaveLength(1);
  });

  it('a new monitor whose very first tick fails (runOnDeploy: false) pages at once: no heartbeat before it tells a passing fault apart', async () => {
    // Said in docs/alarms.md: the one case where a single failed tick pages. With runOnDeploy (the default), such a
    // failure fails the deployment instead.
    const single = stage(POOL, { runOnDeploy: false });
    world.cognito.pools.set(POOL, []);
    const timeline = await simulate(single, {
      alarmsCreatedAt: at('00:00'),
      from: at('00:01'),
      to: at('00:10'),
      before: cognitoFails(POOL, NOT_AUTHORIZED, '00:01', '00:02'),
    });
    expect(failedTicks(timeline)).toEqual(['00:01 NotAuthorizedException']);
    expect(pages(timeline).map(readable)).toHaveLength(1);
    expect(pages(timeline, 'MonitorSilent')[0]).toHappenBetween('00:01', '00:03');
    expect(transitions(timeline, 'MonitorSilent', 'OK')[0]).toHappenBetween('00:02', '00:04');
  });

  // CloudWatch reads "a higher number of data points than the number specified as Evaluation Periods": 1 more at least.
  it.each([2, 1])('a schedule rule disabled at 01:00 (schedule 30 minutes) pages MonitorSilent by 01:07, which stays in ALARM while no tick comes (%i extra periods in range)', async (extraPeriods) => {
    const single = stage(POOL, { schedule: Duration.minutes(30) });
    world.cognito.pools.set(POOL, []);
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('03:10'),
      ticks: (t) => t < at('01:00'),
      evaluator: { extraPeriods },
    });

    expect(failedTicks(timeline)).toEqual([]);
    const page = pages(timeline, 'MonitorSilent').find((t) => t.at >= at('01:00'));
    expect(page).toHappenBetween('01:00', '01:07');
    expect(page!.actions).toEqual([single.failTopic]);
    expect(transitions(timeline, 'MonitorSilent').filter((t) => t.at > page!.at).map(readable)).toEqual([]);
    expect(pages(timeline).map(readable)).toHaveLength(1);
  });
});

describe('a job waiting to be started warns on the warning topic; its expiry pages on the fail topic', () => {
  it('warns between 01:00 and 01:10 for a job created at 00:00, pages JobExpired when it expires at 02:00', async () => {
    const single = stage(POOL, { awaitingStartWarning: Duration.hours(1) }, { routeWarnings: true });
    const created = { created: '00:00' };
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('02:10'),
      before: jobsOver({
        '00:00': { [POOL]: [importJob(1, 'Created', created)] },
        '02:00': { [POOL]: [importJob(1, 'Expired', { ...created, completed: '02:00' })] },
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline, 'JobAwaitingStart').map(readable)).toHaveLength(1);
    const [warning] = pages(timeline, 'JobAwaitingStart');
    expect(warning).toHappenBetween('01:00', '01:10');
    expect(warning.actions).toEqual([single.warnTopic]);
    expect(descriptionOf(single, 'JobAwaitingStart')).toContain(POOL);
    expect(pages(timeline, 'JobExpired').map(readable)).toHaveLength(1);
    const [expired] = pages(timeline, 'JobExpired');
    expect(expired).toHappenBetween('02:00', '02:03');
    expect(expired.actions).toEqual([single.failTopic]);
    expect(descriptionOf(single, 'JobExpired')).toContain(POOL);
    expect(pagesBut(timeline, 'JobAwaitingStart', 'JobExpired')).toEqual([]);
  });
});

describe('a warning clears when its job is started or ends, and stays clear, though a quiet pool publishes no zeros', () => {
  it('JobAwaitingStart warns from 01:00 for a job created at 00:00, clears within minutes of its start at 01:20, and stays OK through its end', async () => {
    const single = stage(POOL, { awaitingStartWarning: Duration.hours(1) }, { routeWarnings: true });
    const created = { created: '00:00' };
    const started = { ...created, started: '01:20' };
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('04:00'),
      before: jobsOver({
        '00:00': { [POOL]: [importJob(1, 'Created', created)] },
        '01:20': { [POOL]: [importJob(1, 'InProgress', started)] },
        '01:40': { [POOL]: [importJob(1, 'Succeeded', { ...started, completed: '01:40' })] },
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline).map(readable)).toHaveLength(1);
    const [warning] = pages(timeline, 'JobAwaitingStart');
    expect(warning).toHappenBetween('01:00', '01:10');
    expect(warning.actions).toEqual([single.warnTopic]);
    expect(leavesAlarm(timeline, 'JobAwaitingStart', warning)).toHappenBetween('01:20', '01:27');
    expect(transitions(timeline, 'JobAwaitingStart').filter((t) => t.at > at('01:27')).map(readable)).toEqual([]);
  });

  it('JobStuck warns from 01:10 for a job started at 00:10, clears within minutes of its end at 01:32, and stays OK for hours of quiet', async () => {
    const single = stage(POOL, { stuckWarning: Duration.hours(1) }, { routeWarnings: true });
    const running = { created: '00:09', started: '00:10' };
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('04:00'),
      before: jobsOver({
        '00:00': { [POOL]: [] },
        '00:09': { [POOL]: [importJob(1, 'Created', { created: '00:09' })] },
        '00:10': { [POOL]: [importJob(1, 'InProgress', running)] },
        // Two minutes into a five-minute period: the period of the zero holds ones too.
        '01:32': { [POOL]: [importJob(1, 'Succeeded', { ...running, completed: '01:32' })] },
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline).map(readable)).toHaveLength(1);
    const [warning] = pages(timeline, 'JobStuck');
    expect(warning).toHappenBetween('01:10', '01:17');
    expect(warning.actions).toEqual([single.warnTopic]);
    expect(leavesAlarm(timeline, 'JobStuck', warning)).toHappenBetween('01:32', '01:39');
    expect(transitions(timeline, 'JobStuck').filter((t) => t.at > at('01:39')).map(readable)).toEqual([]);
  });
});

describe('users that failed to import warn once, at the end of a job that went through', () => {
  it('a job whose FailedUsers grow to 7 while it runs 40 minutes warns once, at its end, on the warning topic', async () => {
    const single = stage(POOL, {}, { routeWarnings: true });
    world.cognito.pools.set(POOL, []);
    const running = { created: '00:09', started: '00:10' };
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('01:00'),
      before: jobsOver({
        '00:10': { [POOL]: [importJob(1, 'InProgress', running, { imported: 0, failed: 0 })] },
        '00:20': { [POOL]: [importJob(1, 'InProgress', running, { imported: 100, failed: 1 })] },
        '00:30': { [POOL]: [importJob(1, 'InProgress', running, { imported: 200, failed: 3 })] },
        '00:40': { [POOL]: [importJob(1, 'InProgress', running, { imported: 300, failed: 7 })] },
        '00:50': { [POOL]: [importJob(1, 'Succeeded', { ...running, completed: '00:50' }, { imported: 400, failed: 7 })] },
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline, 'UsersFailed').map(readable)).toHaveLength(1);
    const [warning] = pages(timeline, 'UsersFailed');
    expect(warning).toHappenBetween('00:50', '00:53');
    expect(warning.actions).toEqual([single.warnTopic]);
    expect(descriptionOf(single, 'UsersFailed')).toContain(POOL);
    expect(pagesBut(timeline, 'UsersFailed')).toEqual([]);
  });

  it('a job that ends Failed with 5 failed users pages JobFailed, and UsersFailed stays quiet', async () => {
    const single = stage(POOL, {}, { routeWarnings: true });
    world.cognito.pools.set(POOL, []);
    const running = { created: '00:09', started: '00:10' };
    const timeline = await simulate(single, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('00:45'),
      before: jobsOver({
        '00:10': { [POOL]: [importJob(1, 'InProgress', running)] },
        '00:30': { [POOL]: [importJob(1, 'Failed', { ...running, completed: '00:30' }, { failed: 5 })] },
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline, 'JobFailed').map(readable)).toHaveLength(1);
    const [page] = pages(timeline, 'JobFailed');
    expect(page).toHappenBetween('00:30', '00:33');
    expect(page.actions).toEqual([single.failTopic]);
    expect(pages(timeline, 'UsersFailed').map(readable)).toEqual([]);
    expect(pagesBut(timeline, 'JobFailed')).toEqual([]);
  });
});

describe("a fleet pages for each pool's failure, naming the pool, and never for its own start", () => {
  const fleetOf = (count: number, name: string) => Array.from({ length: count }, (_, i) => `eu-west-1_${name}${String(i + 1).padStart(3, '0')}`);
  const fast = { cognitoRequestsPerSecond: 1000 };
  const visibility = { newSeriesVisibleAfterMs: FLEET_SERIES_VISIBLE_AFTER_MS };

  it('a fleet too large for its deployment run, which defers every pool, pages nobody', async () => {
    const pools = fleetOf(20, 'Tenant');
    const fleet = stage(pools, fast);
    for (const pool of pools) world.cognito.pools.set(pool, []);
    const timeline = await simulate(fleet, {
      deployAt: at('00:00'),
      // 12 s left: less than the 10 s a pool needs once the 5 s kept for the timeout are set aside.
      deployRemainingMs: 12_000,
      alarmsCreatedAt: at('00:00:20'),
      from: at('00:01'),
      to: at('00:40'),
      evaluator: visibility,
    });

    expect(timeline.ticks[0].result).toMatchObject({ pools: 20, ran: 0, deferred: 20 });
    expect(timeline.ticks[1].result).toMatchObject({ ran: 20, deferred: 0, failed: [] });
    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline).map(readable)).toEqual([]);
  });

  // A pool quiet for weeks has no series: its zeros start when its job is first seen in flight (01:00) and are seen
  // from 01:10 (10 minutes for a new series, here); a fleet's job alarm looks back 15 minutes, which still holds a
  // failure 2 minutes in.
  it.each([
    ['20 minutes', '01:20', '01:20', '01:23'],
    ['2 minutes', '01:02', '01:10', '01:13'],
  ])("a pool's first failure in weeks, its job in flight %s, pages JobFailed within minutes, naming that pool", async (_, end, from, until) => {
    const pools = fleetOf(5, 'Quiet');
    const failing = pools[2];
    const fleet = stage(pools, fast);
    for (const pool of pools) world.cognito.pools.set(pool, []);
    const running = { created: '00:59', started: '01:00' };
    const timeline = await simulate(fleet, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('01:30'),
      evaluator: visibility,
      before: jobsOver({
        '01:00': { [failing]: [importJob(1, 'InProgress', running)] },
        [end]: { [failing]: [importJob(1, 'Failed', { ...running, completed: end })] },
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline, 'JobFailed').map(readable)).toHaveLength(1);
    const [page] = pages(timeline, 'JobFailed');
    expect(page).toHappenBetween(from, until);
    expect(page.contributors).toEqual([failing]);
    expect(page.actions).toEqual([fleet.failTopic]);
    expect(pagesBut(timeline, 'JobFailed')).toEqual([]);
  });

  it('a listed pool deleted at 01:00 pages PoolRunsFailed once, which leaves ALARM and stays quiet while the pool is listed every schedule', async () => {
    const pools = fleetOf(3, 'Listed');
    const deleted = pools[1];
    const fleet = stage(pools, fast);
    for (const pool of pools) world.cognito.pools.set(pool, []);
    const timeline = await simulate(fleet, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('03:30'),
      evaluator: visibility,
      before: cognitoFails(deleted, { type: 'ResourceNotFoundException', status: 400, message: 'User pool does not exist.' }, '01:00'),
    });

    const [page, ...again] = pages(timeline, 'PoolRunsFailed');
    // Its fifth failed run in a row, or later, once CloudWatch sees the pool's new series (10 minutes on, here): the
    // count only grows while the pool keeps failing, so a late series still pages.
    expect(page).toHappenBetween('01:04', '01:12');
    expect(page.contributors).toEqual([deleted]);
    expect(page.actions).toEqual([fleet.failTopic]);
    expect(again.map(readable)).toEqual([]);
    // Its series then ends: out of ALARM (to OK, or INSUFFICIENT_DATA with no series left; docs/alarm-evaluation.md).
    expect(leavesAlarm(timeline, 'PoolRunsFailed', page)).toHappenBetween('01:15', '01:45');
    // From its eleventh failed run on: gone, not failed, listed every 5 minutes (the schedule), never failed again.
    const later = timeline.ticks.filter((tick) => tick.at >= at('01:15') && !tick.deploy).map((tick) => tick.result as { gone: number; failed: unknown[] });
    expect(later.flatMap((summary) => summary.failed)).toEqual([]);
    // 01:15 to 03:30 holds 28 five-minute marks at most.
    expect(later.filter((summary) => summary.gone === 1).length).toBeGreaterThanOrEqual(25);
    expect(later.filter((summary) => summary.gone === 1).length).toBeLessThanOrEqual(28);
    expect(pagesBut(timeline, 'PoolRunsFailed')).toEqual([]);
  });

  it('a pool failing 4 runs in a row, then working, pages nobody; failing on, it pages PoolRunsFailed once', async () => {
    const pools = fleetOf(2, 'Flaky');
    const fleet = stage(pools, fast);
    for (const pool of pools) world.cognito.pools.set(pool, []);
    const failing = (from: string, until?: string) => cognitoFails(pools[0], NOT_AUTHORIZED, from, until);
    const burst = failing('01:00', '01:04');
    const outage = failing('02:00', '02:30');
    const timeline = await simulate(fleet, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('03:00'),
      evaluator: visibility,
      before: (t) => (t < at('02:00') ? burst(t) : outage(t)),
    });

    const failedRuns = timeline.ticks.filter((tick) => ((tick.result as { failed?: unknown[] })?.failed ?? []).length > 0).map((tick) => clock(tick.at).slice(0, 5));
    expect(failedRuns.filter((time) => time < '02:00')).toEqual(['01:00', '01:01', '01:02', '01:03']);
    const [page, ...again] = pages(timeline, 'PoolRunsFailed');
    expect(page).toHappenBetween('02:04', '02:12');
    expect(again.map(readable)).toEqual([]);
    expect(leavesAlarm(timeline, 'PoolRunsFailed', page)).toHappenBetween('02:30', '02:50');
    expect(pagesBut(timeline, 'PoolRunsFailed')).toEqual([]);
  });

  it('a fleet whose state table refuses writes pages MonitorSilent, though its ticks still list the pools', async () => {
    const pools = fleetOf(3, 'Frozen');
    const fleet = stage(pools, fast);
    for (const pool of pools) world.cognito.pools.set(pool, [importJob(1, 'InProgress', { created: '00:00', started: '00:00' })]);
    const timeline = await simulate(fleet, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('01:20'),
      evaluator: visibility,
      before: (t) => {
        world.dynamoFault = t >= at('01:00') ? (operation) => (['PutItem', 'UpdateItem'].includes(operation) ? 'fail' : undefined) : undefined;
      },
    });

    const page = pages(timeline, 'MonitorSilent').find((t) => t.at >= at('01:00'));
    expect(page).toHappenBetween('01:00', '01:08');
    expect(page!.actions).toEqual([fleet.failTopic]);
  });

  it('100 pools failing in the same minute (00:12) page JobFailed once, with the 100 as contributors', async () => {
    const pools = fleetOf(100, 'Bulk');
    const fleet = stage(pools, fast);
    const running = { created: '00:00', started: '00:00' };
    const timeline = await simulate(fleet, {
      ...DEPLOYED_AT_MIDNIGHT,
      to: at('00:16'),
      evaluator: visibility,
      // In flight for 12 minutes: long enough for each pool's series to be visible (10 minutes) before it fails.
      before: jobsOver({
        '00:00': Object.fromEntries(pools.map((pool) => [pool, [importJob(1, 'InProgress', running)]])),
        '00:12': Object.fromEntries(pools.map((pool) => [pool, [importJob(1, 'Failed', { ...running, completed: '00:12' })]])),
      }),
    });

    expect(failedTicks(timeline)).toEqual([]);
    expect(pages(timeline, 'JobFailed').map(readable)).toHaveLength(1);
    const [page] = pages(timeline, 'JobFailed');
    expect(page).toHappenBetween('00:12', '00:15');
    expect([...page.contributors].sort()).toEqual(pools);
    expect(page.actions).toEqual([fleet.failTopic]);
    expect(pagesBut(timeline, 'JobFailed')).toEqual([]);
  });
});
