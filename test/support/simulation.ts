/**
 * Simulated time for the bundled handler: the monitor a synthesized template describes, run in this process at any
 * simulated time against the loopback world, tick after tick, with what it prints turned into CloudWatch datapoints
 * for an alarm evaluator. A child process per tick (`Loopback.invoke`) costs about 0.3 s; a tick here costs
 * milliseconds, so a scenario can run hours of ticks.
 *
 * During a tick, and only then: `Date` says simulated time (the tick's start plus the real time since), `Math.random`
 * returns 0 (so the scheduled tick's jitter, and the SDK's retry back-off, wait nothing), what is written to stdout and
 * stderr is captured, and `process.env` is the function's, as the construct set it. Everything is restored after.
 * Ticks must not overlap: one at a time per process.
 */
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { ENV_DISCOVER_USER_POOLS, ENV_EVENT_BUS_NAME, ENV_STATE_TABLE_NAME, ENV_USER_POOL_ID, ENV_USER_POOL_IDS, ENV_USER_POOL_IDS_FILE } from '../../lib/contract';
import { AlarmEvaluator, Transition, datapointsFromEmf } from './alarm-evaluator';
import { EmfRecord, parseEmf, parseLogs } from './emf';
import { BUNDLE, BUS_ARN, Loopback } from './loopback';

/** A synthesized template: `Template.fromStack(stack)`, or its JSON. */
export type TemplateLike = { toJSON(): Record<string, any> } | Record<string, any>;

export interface TickOptions {
  /** The deployment's run (`{}`), rather than the schedule's tick. */
  readonly deploy?: boolean;
  /** The function's time left when the tick starts, as Lambda's context says. @default the function's Timeout */
  readonly remainingMs?: number;
}

/** What one tick did. */
export interface SimulatedTick {
  /** Its simulated start, epoch milliseconds. */
  readonly at: number;
  readonly deploy: boolean;
  /** The embedded metric format records it printed. */
  readonly emf: EmfRecord[];
  /** Its JSON log lines, stdout's and stderr's. */
  readonly logs: Record<string, any>[];
  /** What the handler returned, when it did. */
  readonly result?: unknown;
  /** What the handler threw, when it did (`error !== undefined` is a failed invocation). */
  readonly error?: unknown;
  /** Real time the tick took, milliseconds. */
  readonly realMs: number;
}

type Handler = (event: unknown, context?: { getRemainingTimeInMillis(): number }) => Promise<unknown>;

// The monitor's function is the one the construct gives a pool, a list or a discovery to watch.
const MONITOR_ENV = [ENV_USER_POOL_ID, ENV_USER_POOL_IDS, ENV_USER_POOL_IDS_FILE, ENV_DISCOVER_USER_POOLS];

const SCHEDULED_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event' };

// The realm's own, taken before any tick replaces them.
const RealDate = Date;
const realRandom = Math.random;

/** The monitor of a template, loaded once (a copy of its own) and run tick by tick at simulated times. */
export class SimulatedMonitor {
  /**
   * Loads a fresh copy of the bundle for the monitor `template` describes: module-level state (clients, caches)
   * is this monitor's alone, as in a new execution environment.
   */
  public static async create(world: Loopback, template: TemplateLike, options: { bundle?: string; functionLogicalId?: string } = {}): Promise<SimulatedMonitor> {
    const fn = monitorFunction(template, options.functionLogicalId);
    const environment = { ...loopbackEnvironment(world), ...functionEnvironment(fn.logicalId, fn.properties.Environment?.Variables ?? {}, world) };
    const timeoutMs = (fn.properties.Timeout ?? 3) * 1000;
    const bundle = options.bundle ?? BUNDLE;
    const handler = withEnvironment(environment, () => loadFresh(bundle));
    return new SimulatedMonitor(handler, environment, timeoutMs);
  }

  private lastAt = -Infinity;

  private constructor(
    private readonly handler: Handler,
    /** The environment each tick runs with: the loopback's endpoints and credentials, then the function's own. */
    public readonly environment: Readonly<Record<string, string>>,
    /** The function's timeout, from the template. */
    public readonly timeoutMs: number,
  ) {}

  /** Runs one invocation starting at simulated time `atMs`: a scheduled tick, or the deployment's run. */
  public async tick(atMs: number, options: TickOptions = {}): Promise<SimulatedTick> {
    if (atMs < this.lastAt) throw new Error(`ticks go forward in time: ${iso(atMs)} comes before ${iso(this.lastAt)}`);
    this.lastAt = atMs;
    const deploy = options.deploy ?? false;
    const realStart = performance.now();
    const now = () => Math.floor(atMs + performance.now() - realStart);
    const deadline = atMs + (options.remainingMs ?? this.timeoutMs);
    const context = { getRemainingTimeInMillis: () => deadline - now() };
    const output = captureOutput();
    const restoreClock = simulateClock(now);
    let result: unknown;
    let error: unknown;
    try {
      result = await withEnvironmentAsync(this.environment, () => this.handler(deploy ? {} : { ...SCHEDULED_EVENT, time: iso(atMs) }, context));
    } catch (thrown) {
      error = thrown ?? new Error('the handler threw undefined');
    } finally {
      restoreClock();
      output.restore();
    }
    return {
      at: atMs,
      deploy,
      emf: parseEmf(output.stdout),
      logs: [...parseLogs(output.stdout), ...parseLogs(output.stderr)],
      result,
      error,
      realMs: performance.now() - realStart,
    };
  }
}

export interface TimelineOptions {
  readonly monitor: SimulatedMonitor;
  readonly evaluator: AlarmEvaluator;
  /** The first scheduled tick, epoch milliseconds. */
  readonly from: number;
  /** The end of the timeline: the evaluator is advanced to it. */
  readonly to: number;
  /** @default 60_000, the default active schedule: the rule's rate */
  readonly everyMs?: number;
  /** The deployment's run at this time, before the ticks; none when undefined (`runOnDeploy: false`). */
  readonly deployAt?: number;
  /** Time left to the deployment's run. @default the function's timeout */
  readonly deployRemainingMs?: number;
  /**
   * When the stack creates the alarms: the evaluator is not advanced before (an alarm that does not exist
   * evaluates nothing). @default `from`, or `deployAt` when given
   */
  readonly alarmsCreatedAt?: number;
  /** Changes the world before the invocation at `t` (a job fails, Cognito throttles); also called for skipped ticks. */
  readonly before?: (t: number) => void | Promise<void>;
  /** Whether the rule ticks at `t`: false while a scenario has it disabled. @default always */
  readonly ticks?: (t: number) => boolean;
  /** How long after its timestamp a datapoint reaches CloudWatch. @default 30_000 */
  readonly ingestDelayMs?: number;
  /** Further arrival delays of a copy of this tick's EMF, as a run killed between publishing and clearing republishes it. */
  readonly duplicates?: (tick: SimulatedTick) => readonly number[];
}

export interface Timeline {
  readonly transitions: Transition[];
  readonly ticks: SimulatedTick[];
}

/**
 * Runs the monitor tick by tick (the deployment's run first, if any), hands each tick's datapoints to the evaluator
 * with their arrival delay, advances the evaluator as time passes, and returns every transition and tick.
 */
export async function runTimeline(options: TimelineOptions): Promise<Timeline> {
  const { monitor, evaluator } = options;
  const everyMs = options.everyMs ?? 60_000;
  const ingestDelayMs = options.ingestDelayMs ?? 30_000;
  const alarmsCreatedAt = options.alarmsCreatedAt ?? options.deployAt ?? options.from;
  const transitions: Transition[] = [];
  const ticks: SimulatedTick[] = [];
  let created = false;
  const advanceTo = (t: number) => {
    if (!created && t >= alarmsCreatedAt) {
      created = true;
      transitions.push(...evaluator.advanceTo(alarmsCreatedAt));
    }
    if (created) transitions.push(...evaluator.advanceTo(t));
  };
  const deliver = (tick: SimulatedTick) => {
    ticks.push(tick);
    for (const delayMs of [ingestDelayMs, ...(options.duplicates?.(tick) ?? [])]) {
      evaluator.add(datapointsFromEmf(tick.emf, { delayMs }));
    }
  };

  if (options.deployAt !== undefined) {
    advanceTo(options.deployAt);
    await options.before?.(options.deployAt);
    deliver(await monitor.tick(options.deployAt, { deploy: true, remainingMs: options.deployRemainingMs }));
  }
  for (let t = options.from; t <= options.to; t += everyMs) {
    advanceTo(t);
    await options.before?.(t);
    if (options.ticks?.(t) ?? true) deliver(await monitor.tick(t));
  }
  advanceTo(options.to);
  return { transitions, ticks };
}

/** The environment `Loopback.invoke` gives its child: the loopback's endpoints, dummy credentials, region and table. */
function loopbackEnvironment(world: Loopback): Record<string, string> {
  return {
    ...(process.env.PATH !== undefined ? { PATH: process.env.PATH } : {}),
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: world.cognitoEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: world.dynamoEndpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: world.eventsEndpoint,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    STATE_TABLE_NAME: world.tableName,
    SCHEDULE_SECONDS: '300',
    METRIC_NAMESPACE: 'Cognito/UserImportJobs',
  };
}

/**
 * The function's own environment, from the template. Its two references become the loopback's: the state table's
 * name, and the bus's ARN. `EVENT_BUS_NAME` is set only when the construct set it (`jobEvents: false` sets none).
 */
function functionEnvironment(logicalId: string, variables: Record<string, unknown>, world: Loopback): Record<string, string> {
  if (variables[ENV_USER_POOL_IDS_FILE] !== undefined) {
    throw new Error(`${logicalId} lists its pools in a file beside its asset (${ENV_USER_POOL_IDS_FILE}): simulate at most about 120 pools`);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (name === ENV_STATE_TABLE_NAME) env[name] = world.tableName;
    else if (name === ENV_EVENT_BUS_NAME) env[name] = BUS_ARN;
    else if (typeof value === 'string') env[name] = value;
    else throw new Error(`${logicalId}'s environment variable ${name} is a token the simulation cannot resolve: ${JSON.stringify(value)}`);
  }
  return env;
}

function monitorFunction(template: TemplateLike, logicalId?: string): { logicalId: string; properties: Record<string, any> } {
  const json: Record<string, any> = typeof template.toJSON === 'function' ? (template as { toJSON(): Record<string, any> }).toJSON() : template;
  const functions = Object.entries<Record<string, any>>(json.Resources ?? {}).filter(
    ([id, resource]) =>
      resource.Type === 'AWS::Lambda::Function' &&
      (logicalId === undefined || id === logicalId) &&
      MONITOR_ENV.some((name) => resource.Properties?.Environment?.Variables?.[name] !== undefined),
  );
  if (functions.length !== 1) {
    throw new Error(
      `expected one monitor function in the template (env ${MONITOR_ENV.join(' / ')}), found ${functions.length}` +
        (functions.length > 1 ? `: ${functions.map(([id]) => id).join(', ')}; pass functionLogicalId` : ''),
    );
  }
  return { logicalId: functions[0][0], properties: functions[0][1].Properties };
}

/**
 * Evaluates the bundle afresh, as CommonJS, in this realm (so that it sees the `Date` and `Math` a tick replaces):
 * under jest, `require.cache` is jest's registry and deleting from it does not give a new copy. The bundle's few
 * dynamic imports, of Node.js built-in modules (`import("node:http")`), become requires: code compiled this way
 * inside jest's sandbox has no loader for `import()`.
 */
function loadFresh(bundle: string): Handler {
  const source = fs.readFileSync(bundle, 'utf8').replace(/(?<![\w$.])import\(("node:[\w/]+")\)/g, 'Promise.resolve(require($1))');
  const other = /(?<![\w$.])import\([^)]*\)/.exec(source);
  if (other) throw new Error(`${bundle} imports a module dynamically that the simulation cannot load: ${other[0]}`);
  const module = { exports: {} as Record<string, unknown> };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const evaluate = new Function('exports', 'require', 'module', '__filename', '__dirname', `${source}\n//# sourceURL=${bundle}`);
  evaluate(module.exports, require, module, bundle, path.dirname(bundle));
  const handler = module.exports.handler;
  if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler`);
  return handler as Handler;
}

/** `Date` reads simulated time from `now`, and `Math.random` returns 0, until the returned function restores them. */
function simulateClock(now: () => number): () => void {
  function SimulatedDate(this: unknown, ...args: unknown[]): Date | string {
    // Called without `new`, Date returns the current time as a string.
    if (new.target === undefined) return new RealDate(now()).toString();
    return args.length === 0 ? new RealDate(now()) : new (RealDate as any)(...args);
  }
  SimulatedDate.prototype = RealDate.prototype;
  SimulatedDate.now = now;
  SimulatedDate.parse = RealDate.parse;
  SimulatedDate.UTC = RealDate.UTC;
  globalThis.Date = SimulatedDate as unknown as DateConstructor;
  Math.random = () => 0;
  return () => {
    globalThis.Date = RealDate;
    Math.random = realRandom;
  };
}

/** Captures what is written to stdout and stderr (Powertools writes its EMF and logs there) until `restore()`. */
function captureOutput(): { stdout: string; stderr: string; restore(): void } {
  const captured = { stdout: '', stderr: '', restore: () => undefined as void };
  const streams = [
    [process.stdout, 'stdout'],
    [process.stderr, 'stderr'],
  ] as const;
  const originals = streams.map(([stream]) => stream.write);
  for (const [stream, name] of streams) {
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      captured[name] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    }) as typeof stream.write;
  }
  captured.restore = () => streams.forEach(([stream], i) => (stream.write = originals[i]));
  return captured;
}

/** Runs `body` with exactly `env` as `process.env`, then puts the previous environment back. */
function withEnvironment<T>(env: Readonly<Record<string, string>>, body: () => T): T {
  const saved = replaceEnvironment(env);
  try {
    return body();
  } finally {
    replaceEnvironment(saved);
  }
}

async function withEnvironmentAsync<T>(env: Readonly<Record<string, string>>, body: () => Promise<T>): Promise<T> {
  const saved = replaceEnvironment(env);
  try {
    return await body();
  } finally {
    replaceEnvironment(saved);
  }
}

function replaceEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) if (value !== undefined) process.env[name] = value;
  return saved;
}

function iso(ms: number): string {
  return new RealDate(ms).toISOString();
}
