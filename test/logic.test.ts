import { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';
import { JOB_STATUSES } from '../lib/contract';
import { isDue, nextRunAt } from '../lambda/cadence';
import { StoredJobState, laterState, planChanges } from '../lambda/changes';
import { computeFigures, countWarnings, lastWarnedAt } from '../lambda/figures';
import { IncompleteListingError, listAllJobs } from '../lambda/listing';

const NOW = new Date('2026-11-25T12:00:00Z');
const PERIOD = 5 * 60_000;

function job(id: string, status: string, extra: Partial<UserImportJobType> = {}): UserImportJobType {
  return { JobId: id, JobName: `name-${id}`, Status: status as UserImportJobType['Status'], ...extra };
}

function stored(status: StoredJobState['status'], imported = 0, skipped = 0, failed = 0): StoredJobState {
  return { status, importedUsers: imported, skippedUsers: skipped, failedUsers: failed };
}

describe('listAllJobs', () => {
  it('follows pagination tokens to the last page', async () => {
    const pages: Record<string, { jobs: UserImportJobType[]; nextToken?: string }> = {
      start: { jobs: [job('a', 'Created')], nextToken: 't1' },
      t1: { jobs: [job('b', 'Pending')], nextToken: 't2' },
      t2: { jobs: [job('c', 'Failed')] },
    };
    const asked: (string | undefined)[] = [];
    const result = await listAllJobs(async (token) => {
      asked.push(token);
      return pages[token ?? 'start'];
    });
    expect(asked).toEqual([undefined, 't1', 't2']);
    expect(result.pages).toBe(3);
    expect(result.jobs.map((j) => j.JobId)).toEqual(['a', 'b', 'c']);
  });

  it('fails when a pagination token comes back twice', async () => {
    await expect(listAllJobs(async () => ({ jobs: [job('a', 'Created')], nextToken: 'same' }))).rejects.toThrow(
      new IncompleteListingError('ListUserImportJobs returned pagination token "same" twice (after 2 pages, 1 jobs)'),
    );
  });

  it('keeps a job listed on two pages once, as last seen', async () => {
    const result = await listAllJobs(async (token) =>
      token ? { jobs: [job('a', 'InProgress')] } : { jobs: [job('a', 'Pending')], nextToken: 'next' },
    );
    expect(result.jobs).toEqual([job('a', 'InProgress')]);
  });
});

describe('planChanges', () => {
  it('counts a job entering a completed status once, with the users it added', () => {
    const plan = planChanges(
      [job('a', 'Failed', { ImportedUsers: 10, SkippedUsers: 2, FailedUsers: 3 })],
      new Map([['a', stored('InProgress', 4, 1, 0)]]),
      {},
    );
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0].completed).toBe('Failed');
    expect(plan.changes[0].newUsers).toEqual({ importedUsers: 6, skippedUsers: 1, failedUsers: 3 });
  });

  it('ignores a job whose status and counters did not move', () => {
    const plan = planChanges([job('a', 'Succeeded', { ImportedUsers: 5 })], new Map([['a', stored('Succeeded', 5)]]), {});
    expect(plan.changes).toEqual([]);
  });

  it('counts user growth of a running job without a transition', () => {
    const plan = planChanges([job('a', 'InProgress', { ImportedUsers: 50 })], new Map([['a', stored('InProgress', 20)]]), {});
    expect(plan.changes[0].completed).toBeUndefined();
    expect(plan.changes[0].newUsers.importedUsers).toBe(30);
  });

  it('counts a job first seen already completed, after the first run', () => {
    const plan = planChanges(
      [job('new', 'Expired', { CompletionDate: new Date('2020-01-01T00:00:00Z') })],
      new Map(),
      {},
    );
    expect(plan.changes[0].completed).toBe('Expired');
  });

  it('treats jobs completed before the last period as history on the first run', () => {
    const plan = planChanges(
      [
        job('old', 'Failed', { CompletionDate: new Date(NOW.getTime() - PERIOD - 1), ImportedUsers: 7 }),
        job('recent', 'Failed', { CompletionDate: new Date(NOW.getTime() - PERIOD + 1000), ImportedUsers: 3 }),
        job('undated', 'Succeeded', { ImportedUsers: 9 }),
        job('running', 'InProgress', { ImportedUsers: 2 }),
      ],
      new Map(),
      { historyBefore: new Date(NOW.getTime() - PERIOD) },
    );
    const byId = Object.fromEntries(plan.changes.map((c) => [c.job.JobId, c]));
    expect(byId.old.completed).toBeUndefined();
    expect(byId.old.newUsers.importedUsers).toBe(0);
    expect(byId.old.next.importedUsers).toBe(7);
    expect(byId.undated.completed).toBeUndefined();
    expect(byId.recent.completed).toBe('Failed');
    expect(byId.recent.newUsers.importedUsers).toBe(3);
    expect(byId.running.newUsers.importedUsers).toBe(2);
  });

  it('leaves alone a job listed in an older state than stored', () => {
    const plan = planChanges(
      [job('back', 'InProgress', { ImportedUsers: 10 }), job('shrunk', 'InProgress', { ImportedUsers: 5 })],
      new Map([
        ['back', stored('Succeeded', 10)],
        ['shrunk', stored('InProgress', 8)],
      ]),
      {},
    );
    expect(plan.changes).toEqual([]);
    expect(plan.stale.map((j) => j.JobId)).toEqual(['back', 'shrunk']);
  });

  it('counts a status that moved forward even when a counter shrank, with no negative users', () => {
    const plan = planChanges(
      [job('a', 'Failed', { ImportedUsers: 8, FailedUsers: 2 })],
      new Map([['a', stored('InProgress', 10)]]),
      {},
    );
    expect(plan.stale).toEqual([]);
    expect(plan.changes[0].completed).toBe('Failed');
    expect(plan.changes[0].newUsers).toEqual({ importedUsers: 0, skippedUsers: 0, failedUsers: 2 });
  });

  it('sets aside a job with an unknown status', () => {
    const plan = planChanges([job('odd', 'Paused'), job('a', 'Created')], new Map(), {});
    expect(plan.unknownStatus.map((j) => j.JobId)).toEqual(['odd']);
    expect(plan.changes.map((c) => c.job.JobId)).toEqual(['a']);
  });
});

describe('computeFigures', () => {
  it('publishes a zero for every status with no job', () => {
    const figures = computeFigures([], []);
    expect(Object.keys(figures.jobs)).toEqual([...JOB_STATUSES]);
    expect(figures.jobs).toEqual(Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])));
    expect(figures.jobsCompleted).toEqual({ Succeeded: 0, Failed: 0, Stopped: 0, Expired: 0 });
    expect(figures.newUsers).toEqual({ importedUsers: 0, skippedUsers: 0, failedUsers: 0 });
  });

  it('counts gauges from the listing and transitions from the stored changes only', () => {
    const jobs = JOB_STATUSES.map((s, i) => job(String(i), s));
    const plan = planChanges(jobs, new Map(), {});
    const figures = computeFigures(jobs, plan.changes.filter((c) => c.job.Status !== 'Stopped'));
    expect(Object.values(figures.jobs)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(figures.jobsCompleted).toEqual({ Succeeded: 1, Failed: 1, Stopped: 0, Expired: 1 });
  });
});

describe('cadence', () => {
  const cadence = { activeScheduleMs: 60_000, scheduleMs: 300_000 };
  const figures = (counts: Partial<Record<string, number>>) =>
    computeFigures(Object.entries(counts).flatMap(([s, n]) => Array.from({ length: n ?? 0 }, (_, i) => job(`${s}${i}`, s))), []);

  it.each(['Created', 'Pending', 'InProgress', 'Stopping'])('runs again after the active interval while a job is %s', (status) => {
    expect(nextRunAt(NOW, figures({ Succeeded: 3, [status]: 1 }), cadence)).toEqual(new Date('2026-11-25T12:01:00Z'));
  });

  it('runs again after the schedule when every job has ended', () => {
    expect(nextRunAt(NOW, figures({ Succeeded: 3, Failed: 1, Expired: 1, Stopped: 1 }), cadence)).toEqual(new Date('2026-11-25T12:05:00Z'));
    expect(nextRunAt(NOW, figures({}), cadence)).toEqual(new Date('2026-11-25T12:05:00Z'));
  });

  const later = (ms: number) => new Date(NOW.getTime() + ms);

  it('is due with no stored time, at the stored time, and up to half a tick before it', () => {
    expect(isDue(NOW, undefined, cadence)).toBe(true);
    expect(isDue(NOW, NOW, cadence)).toBe(true);
    expect(isDue(NOW, later(30_000), cadence)).toBe(true);
    expect(isDue(NOW, later(30_001), cadence)).toBe(false);
    expect(isDue(NOW, later(240_000), cadence)).toBe(false);
    // A tick of ten minutes still runs no more than 30 s early.
    expect(isDue(NOW, later(31_000), { activeScheduleMs: 600_000, scheduleMs: 3_600_000 })).toBe(false);
  });

  it('does not believe a due time further off than the schedule, or one that is not a date', () => {
    // Stored under a one-day schedule, then the schedule became five minutes: run now, not tomorrow.
    expect(isDue(NOW, later(300_001), cadence)).toBe(true);
    expect(isDue(NOW, later(300_000), cadence)).toBe(false);
    expect(isDue(NOW, new Date('not a date'), cadence)).toBe(true);
  });
});

describe('warnings before a job is lost', () => {
  const hours = (h: number) => new Date(NOW.getTime() - h * 3_600_000);
  const limits = { awaitingStartMs: 12 * 3_600_000, stuckMs: 12 * 3_600_000 };

  it('counts jobs created and not started for longer than the limit', () => {
    const jobs = [
      job('a', 'Created', { CreationDate: hours(13) }),
      job('b', 'Created', { CreationDate: hours(11) }),
      job('c', 'Created', {}), // no creation date: not counted, never a false warning
      job('d', 'Pending', { CreationDate: hours(30) }),
    ];
    expect(countWarnings(jobs, NOW, limits).awaitingStart).toBe(1);
  });

  it('counts jobs pending, in progress or stopping for longer than the limit, from their start', () => {
    const jobs = [
      job('a', 'InProgress', { CreationDate: hours(20), StartDate: hours(13) }),
      job('b', 'InProgress', { CreationDate: hours(20), StartDate: hours(2) }),
      job('c', 'Pending', { CreationDate: hours(14) }),
      job('d', 'Stopping', { StartDate: hours(12.5) }),
      job('e', 'Succeeded', { StartDate: hours(40) }),
      job('f', 'Created', { CreationDate: hours(40) }),
    ];
    expect(countWarnings(jobs, NOW, limits).stuck).toBe(3);
  });

  it('knows until when a listed job was last past a limit: the zeros a single pool owes its warning alarms', () => {
    const at = (jobs: UserImportJobType[]) => lastWarnedAt(jobs, NOW, limits);
    // Never past a limit: no warning was raised, none needs clearing.
    expect(at([job('a', 'Succeeded', { CreationDate: hours(5), StartDate: hours(4), CompletionDate: hours(3) }), job('b', 'Created', { CreationDate: hours(2) })])).toBeUndefined();
    // Waited 13 hours before it started: warned until its start.
    expect(at([job('a', 'InProgress', { CreationDate: hours(15), StartDate: hours(2) })])).toEqual(hours(2));
    // Expired while waiting: warned until it expired.
    expect(at([job('a', 'Expired', { CreationDate: hours(30), CompletionDate: hours(1) })])).toEqual(hours(1));
    // Ran 14 hours: stuck until its end.
    expect(at([job('a', 'Succeeded', { CreationDate: hours(20), StartDate: hours(16), CompletionDate: hours(2) })])).toEqual(hours(2));
    // Still waiting, or still running, past the limit: now; the latest of several jobs.
    expect(at([job('a', 'Created', { CreationDate: hours(13) }), job('b', 'Succeeded', { StartDate: hours(30), CompletionDate: hours(5) })])).toEqual(NOW);
    expect(at([job('a', 'Pending', { CreationDate: hours(13), StartDate: hours(12.5) })])).toEqual(NOW);
  });
});

describe('laterState', () => {
  it('takes the status further on, whatever the counters say', () => {
    expect(laterState(stored('InProgress', 90), stored('Failed', 20))).toEqual(stored('Failed', 20));
    expect(laterState(stored('Succeeded', 5), stored('Pending'))).toEqual(stored('Succeeded', 5));
  });

  it('takes each counter at its highest when the status is the same', () => {
    expect(laterState(stored('InProgress', 10, 4, 0), stored('InProgress', 8, 5, 1))).toEqual(stored('InProgress', 10, 5, 1));
  });
});
