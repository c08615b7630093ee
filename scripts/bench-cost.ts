/**
 * What one pool costs a month, measured: a simulated day of the bundled handler, one tick a minute (test/support/
 * simulation.ts), for a quiet pool (no job) and a busy one (one import job a day, an hour in flight, ending with
 * failed users), as a single pool's monitor and as a fleet's pool; what it published (metric-hours, log bytes),
 * asked of DynamoDB and of Lambda (invocations, GB-seconds), priced at us-east-1 list prices and times 30. With a
 * baseline bundle, the same beside it.
 *
 * Lambda's duration is the handler's time in this process (the simulation runs it in milliseconds of real time per
 * tick, calls to the loopback servers included), rounded up to the millisecond as Lambda bills it, at the template's
 * memory. The simulation makes `Math.random` return 0, so a tick's random sleep (releases up to 0.2: 0 to 3 s before a
 * scheduled run, a single pool's due runs and every fleet tick) is not measured: for a bundle named in `sleeping`, its
 * mean, 1.5 s, is added to each such tick.
 */
import { App, Stack, aws_cognito as cognito } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor } from '../lib';
import { FakeJob } from '../test/support/fake-cognito';
import { datapointsFromEmf } from '../test/support/alarm-evaluator';
import { BUNDLE, Loopback } from '../test/support/loopback';
import { SimulatedMonitor } from '../test/support/simulation';

const DAY = 86_400_000;
const START = Date.parse('2026-03-02T00:00:00Z');
const POOL = 'eu-west-1_CostBench1';
// us-east-1 list prices: a custom metric-month (first 10,000), a GB of logs ingested, a million DynamoDB on-demand
// read and write request units, a standard-resolution metric alarm, a GB-second of an arm64 Lambda function and a
// million of its requests. scripts/bench.ts prices a single run with them too.
export const PRICE = {
  metricMonth: 0.3,
  logGb: 0.5,
  readMillion: 0.125,
  writeMillion: 0.625,
  alarm: 0.1,
  lambdaGbSecond: 0.0000133334,
  lambdaRequestMillion: 0.2,
};
const HOURS_A_MONTH = 730;
const READS = new Set(['GetItem', 'Query', 'BatchGetItem']);

interface Day {
  readonly invocations: number;
  /** Lambda's billed duration times memory, GB-seconds. */
  readonly gbSeconds: number;
  readonly metricHours: number;
  readonly series: number;
  readonly logBytes: number;
  readonly reads: number;
  readonly writes: number;
}

/** One job, created at 09:00, started at 09:01, ended Succeeded at 10:00 with 3 failed users: the busy pool's day. */
function busyJobs(t: number): FakeJob[] {
  const at = (h: number, m: number) => new Date(START + h * 3_600_000 + m * 60_000);
  if (t < at(9, 0).getTime()) return [];
  const job = { JobId: 'import-0000000001', JobName: 'daily', CreationDate: at(9, 0), ImportedUsers: 0, SkippedUsers: 0, FailedUsers: 0 };
  if (t < at(9, 1).getTime()) return [{ ...job, Status: 'Created' }];
  if (t < at(10, 0).getTime()) return [{ ...job, Status: 'InProgress', StartDate: at(9, 1), ImportedUsers: Math.floor((t - at(9, 1).getTime()) / 1_000) }];
  return [{ ...job, Status: 'Succeeded', StartDate: at(9, 1), CompletionDate: at(10, 0), ImportedUsers: 3_540, FailedUsers: 3 }];
}

// The mean of a release up to 0.2's sleep before a scheduled run: uniform over 0 to 3 s (a twentieth of the minute).
const MEAN_SLEEP_MS = 1_500;

async function simulateDay(template: Record<string, any>, bundle: string, busy: boolean, sleeps: boolean): Promise<Day> {
  const world = new Loopback();
  await world.start();
  try {
    const monitor = await SimulatedMonitor.create(world, template, { bundle });
    const hours = new Map<string, Set<number>>();
    const memoryGb = functionMemoryMb(template) / 1024;
    const fleet = JSON.stringify(template).includes('USER_POOL_IDS');
    let logBytes = 0;
    let gbSeconds = 0;
    let invocations = 0;
    for (let t = START; t < START + DAY; t += 60_000) {
      world.cognito.pools.set(POOL, busy ? busyJobs(t) : []);
      const tick = await monitor.tick(t, { deploy: t === START });
      const ran = !(tick.result as { skipped?: boolean } | undefined)?.skipped;
      const sleptMs = sleeps && !tick.deploy && (fleet || ran) ? MEAN_SLEEP_MS : 0;
      invocations++;
      gbSeconds += (Math.ceil(tick.realMs + sleptMs) / 1000) * memoryGb;
      for (const p of datapointsFromEmf(tick.emf)) {
        const key = `${p.metricName}${JSON.stringify(p.dimensions)}`;
        if (!hours.has(key)) hours.set(key, new Set());
        hours.get(key)!.add(Math.floor(p.timestamp / 3_600_000));
      }
      logBytes += [...tick.emf, ...tick.logs].reduce((sum, record) => sum + JSON.stringify(record).length + 1, 0);
    }
    const ops = world.dynamoLog.map((r) => r.operation);
    return {
      invocations,
      gbSeconds,
      metricHours: [...hours.values()].reduce((sum, h) => sum + h.size, 0),
      series: hours.size,
      logBytes,
      reads: ops.filter((o) => READS.has(o)).length,
      writes: ops.filter((o) => !READS.has(o)).length,
    };
  } finally {
    await world.stop();
  }
}

function monthly(day: Day): { metrics: number; logs: number; dynamodb: number; lambda: number } {
  return {
    lambda: ((day.gbSeconds * 30) * PRICE.lambdaGbSecond) + ((day.invocations * 30) / 1e6) * PRICE.lambdaRequestMillion,
    metrics: ((day.metricHours * 30) / HOURS_A_MONTH) * PRICE.metricMonth,
    logs: ((day.logBytes * 30) / 1e9) * PRICE.logGb,
    dynamodb: ((day.reads * 30) / 1e6) * PRICE.readMillion + ((day.writes * 30) / 1e6) * PRICE.writeMillion,
  };
}

function functionMemoryMb(json: Record<string, any>): number {
  const fn = Object.values(json.Resources as Record<string, any>).find(
    (r) => r.Type === 'AWS::Lambda::Function' && /USER_POOL_ID|DISCOVER_USER_POOLS/.test(JSON.stringify(r.Properties.Environment ?? {})),
  );
  return fn?.Properties.MemorySize ?? 128;
}

function template(fleet: boolean): { json: Record<string, any>; alarms: number } {
  const stack = new Stack(new App(), 'Cost', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pool = cognito.UserPool.fromUserPoolId(stack, 'Pool', POOL);
  new ImportJobMonitor(stack, 'Monitor', fleet ? { userPools: [pool], monitorName: 'cost' } : { userPool: pool });
  const json = Template.fromStack(stack).toJSON();
  const alarms = Object.values(json.Resources as Record<string, { Type: string }>).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
  return { json, alarms };
}

/**
 * Prints a pool's month, quiet and busy, single and in a fleet, for today's bundle and, if given, a baseline's. The
 * bundles named in `sleeping` sleep before a scheduled run (releases up to 0.2): the sleep's mean is added to their
 * Lambda duration. The fleet rows are a fleet of this one pool: its own heartbeat, pool count and ticks included.
 */
export async function costPerPool(bundles: Record<string, string> = { today: BUNDLE }, sleeping: readonly string[] = []): Promise<void> {
  console.log('\ncost of one pool a month, measured over a simulated day x 30 (us-east-1 list prices; the fleet rows are a fleet of');
  console.log('this one pool, its own heartbeat, pool count and ticks included; alarms at $0.10 each, shown apart)');
  console.log('bundle               monitor  day    series  metric-h/day  log KB/day  ddb r/w a day  GB-s/day   metrics  lambda  logs    dynamodb  total    alarms');
  for (const fleet of [false, true]) {
    const { json, alarms } = template(fleet);
    for (const busy of [false, true]) {
      for (const [name, bundle] of Object.entries(bundles)) {
        const day = await simulateDay(json, bundle, busy, sleeping.includes(name));
        const cost = monthly(day);
        const alarmCost = alarms * PRICE.alarm;
        const total = cost.metrics + cost.lambda + cost.logs + cost.dynamodb;
        console.log(
          `${name.padEnd(20)} ${(fleet ? 'fleet' : 'single').padEnd(8)} ${(busy ? 'busy' : 'quiet').padEnd(6)} ${String(day.series).padStart(6)} ` +
            `${String(day.metricHours).padStart(13)} ${(day.logBytes / 1024).toFixed(0).padStart(11)} ${`${day.reads}/${day.writes}`.padStart(14)} ` +
            `${day.gbSeconds.toFixed(1).padStart(9)}   $${cost.metrics.toFixed(2).padStart(5)}  $${cost.lambda.toFixed(3)}  $${cost.logs.toFixed(3)}  ` +
            `$${cost.dynamodb.toFixed(3)}    $${total.toFixed(2).padStart(5)}   $${alarmCost.toFixed(2)}`,
        );
      }
    }
  }
}
