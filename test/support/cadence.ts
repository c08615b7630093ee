/**
 * A job's end, followed through the schedule's ticks to its published metric: the e2e test checks it, the
 * benchmark prints it. Time is scaled down: ticks every `tickMs` stand for EventBridge's every minute, and the
 * active interval is given in seconds.
 */
import { makeJob } from './fake-cognito';
import { Invocation, Loopback } from './loopback';
import { sumOf, withoutHeartbeat } from './emf';

export const TICK_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event' };

export interface CadenceTrace {
  /** From the job's end to the end of the run that published it, in milliseconds. */
  readonly latencyMs: number;
  /** Ticks that found the pool not yet due, before that run. */
  readonly skippedTicks: number;
  /** The first tick, right after the first run: the pool was due again only after the active interval. */
  readonly first: Invocation;
  readonly second: Invocation;
  /** The tick right after the job's end was published: with no job unfinished, the schedule applies. */
  readonly after: Invocation;
}

export async function traceJobEnd(world: Loopback, pool: string, activeSeconds: number, tickMs: number): Promise<CadenceTrace> {
  const jobs = [makeJob(1, 'InProgress', { ImportedUsers: 1 })];
  world.cognito.pools.set(pool, jobs);
  const env = { ACTIVE_SCHEDULE_SECONDS: String(activeSeconds), SCHEDULE_SECONDS: '300', TEST_EVENT: JSON.stringify(TICK_EVENT) };
  const first = await world.invoke(pool, env);
  const second = await world.invoke(pool, env);
  jobs[0] = makeJob(1, 'Failed', { CompletionDate: new Date(), ImportedUsers: 1, FailedUsers: 2 });
  const endedAt = Date.now();
  let skippedTicks = 0;
  // Bounded: at most 30 ticks.
  for (let tick = 0; tick < 30; tick++) {
    const run = await world.invoke(pool, env);
    if (sumOf(run.emf, `JobsCompleted{UserPoolId=${pool},Status=Failed}`) === 1) {
      const latencyMs = Date.now() - endedAt;
      return { latencyMs, skippedTicks, first, second, after: await world.invoke(pool, env) };
    }
    if (withoutHeartbeat(run.emf).length === 0) skippedTicks++;
    await new Promise((resolve) => setTimeout(resolve, tickMs));
  }
  throw new Error(`the job's end was not published within 30 ticks of ${tickMs} ms`);
}
