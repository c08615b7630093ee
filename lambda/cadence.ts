/**
 * When a pool is listed, free of I/O: every `activeScheduleMs` while a job may still change, every `scheduleMs`
 * otherwise (the `ACTIVE_SCHEDULE_SECONDS` and `SCHEDULE_SECONDS` the construct sets).
 */
import { UNFINISHED_STATUSES } from '../lib/contract';
import { RunFigures } from './figures';

/** How often a pool is listed: every `activeScheduleMs` while a job may still change, every `scheduleMs` otherwise. */
export interface Cadence {
  /** The schedule the user chose (`SCHEDULE_SECONDS`), for a pool with no job that may still change. */
  readonly scheduleMs: number;
  /** How often to list while a job is unfinished, and how often scheduled ticks come (`ACTIVE_SCHEDULE_SECONDS`). */
  readonly activeScheduleMs: number;
}

/**
 * When the pool should next be listed, from what this run found: while any job is unfinished, soon, so that
 * its end is published within one active interval; when none is, after the schedule the user chose. While anything
 * is still owed (an event the bus refused), soon too.
 */
export function nextRunAt(now: Date, figures: RunFigures, cadence: Cadence, owing = false): Date {
  const unfinished = UNFINISHED_STATUSES.some((status) => figures.jobs[status] > 0);
  return new Date(now.getTime() + (unfinished || owing ? cadence.activeScheduleMs : cadence.scheduleMs));
}

/**
 * Whether a scheduled tick should list the pool. Ticks come every `cadence.activeScheduleMs`, a little early or late; a
 * run due up to half a tick (at most 30 s) from now is run now, rather than a whole tick late. A due time that is
 * not a date, or further off than the schedule (stored under a longer one), is not believed.
 */
export function isDue(now: Date, next: Date | undefined, cadence: Cadence): boolean {
  if (next === undefined || Number.isNaN(next.getTime())) return true;
  const wait = next.getTime() - now.getTime();
  return wait <= Math.min(30_000, cadence.activeScheduleMs / 2) || wait > cadence.scheduleMs;
}
