/**
 * The demo's simulated day, 2026-03-02 (UTC): what Cognito lists, minute by minute, for the example app's pool and for
 * a small fleet. Times are of that day; a job created before it was created the day before (`-00:20` is 23:40 on
 * 2026-03-01).
 */
import { FakeJob } from '../../test/support/fake-cognito';

export const DAY = Date.UTC(2026, 2, 2);
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

/** A time of the simulated day: `at('03:00')`, `at('00:00:20')`, `at('-00:20')` (the evening before). */
export function at(time: string): number {
  const sign = time.startsWith('-') ? -1 : 1;
  const [h, m, s = 0] = time.replace(/^-/, '').split(':').map(Number);
  return DAY + sign * ((h * 60 + m) * 60 + s) * 1000;
}

/** A simulated time as the day's clock: `03:01`, or `03:01:20` with seconds. */
export function clock(ms: number, seconds = false): string {
  const text = new Date(ms).toISOString().slice(11, seconds ? 19 : 16);
  return ms >= DAY + 24 * HOUR ? text.replace(/^00/, '24') : text;
}

/** One job's life: its statuses from the times given, and its user counts at each. */
export interface JobStory {
  readonly id: string;
  readonly name: string;
  /** Each status from a time on, in order: `['01:00', 'Created']`; counts as Cognito reports them then. */
  readonly steps: readonly (readonly [string, string, { imported?: number; skipped?: number; failed?: number; message?: string }?])[];
  /** What it shows. */
  readonly note: string;
}

export interface PoolStory {
  readonly id: string;
  readonly name: string;
  readonly jobs: readonly JobStory[];
}

const ENDED = ['Succeeded', 'Failed', 'Stopped', 'Expired'];

/** The example app's pool: a job that goes through, one that fails, one never started, one stuck. */
export const SINGLE_POOL: PoolStory = {
  id: 'eu-west-1_AbC123',
  name: 'customers',
  jobs: [
    {
      id: 'import-N1ghtly0302',
      name: 'nightly-2026-03-02',
      note: 'Created, Pending, InProgress, Succeeded',
      steps: [
        ['01:00', 'Created'],
        ['01:03', 'Pending'],
        ['01:05', 'InProgress'],
        ['01:20', 'InProgress', { imported: 620, skipped: 4 }],
        ['01:35', 'InProgress', { imported: 1210, skipped: 9 }],
        ['01:50', 'Succeeded', { imported: 1480, skipped: 12 }],
      ],
    },
    {
      id: 'import-PartnerFeed',
      name: 'partners-march',
      note: 'created the evening before and never started: JobAwaitingStart after 12 hours, then Expired (JobExpired)',
      steps: [
        ['-00:20', 'Created'],
        ['23:40', 'Expired'],
      ],
    },
    {
      id: 'import-CrmSync0402',
      name: 'crm-sync',
      note: 'fails: JobFailed pages',
      steps: [
        ['04:00', 'Created'],
        ['04:02', 'InProgress'],
        ['04:20', 'InProgress', { imported: 310, skipped: 3, failed: 11 }],
        ['04:40', 'Failed', { imported: 310, skipped: 3, failed: 17, message: 'Too many users have failed or been skipped during the import.' }],
      ],
    },
    {
      id: 'import-LegacyDir06',
      name: 'legacy-directory',
      note: 'stuck InProgress: JobStuck after 12 hours, stopped by its operator at 19:00',
      steps: [
        ['06:00', 'Created'],
        ['06:01', 'Pending'],
        ['06:05', 'InProgress'],
        ['06:30', 'InProgress', { imported: 2000 }],
        ['19:00', 'Stopping', { imported: 2000 }],
        ['19:06', 'Stopped', { imported: 2000 }],
      ],
    },
  ],
};

/** The fleet: every pool of the region but the sandboxes. */
export const FLEET_POOLS: readonly PoolStory[] = [
  {
    id: 'eu-west-1_AcmeCo1',
    name: 'tenant-acme',
    jobs: [
      {
        id: 'import-AcmeOnb0202',
        name: 'acme-onboarding',
        note: 'goes through',
        steps: [
          ['02:00', 'Created'],
          ['02:02', 'InProgress'],
          ['02:30', 'Succeeded', { imported: 240 }],
        ],
      },
    ],
  },
  {
    id: 'eu-west-1_GlobexX',
    name: 'tenant-globex',
    jobs: [
      {
        id: 'import-GlobexMig08',
        name: 'globex-migration',
        note: 'fails: JobFailed pages, naming this pool',
        steps: [
          ['08:00', 'Created'],
          ['08:05', 'InProgress'],
          ['08:40', 'InProgress', { imported: 5200, skipped: 40 }],
          ['09:10', 'Failed', { imported: 5200, skipped: 40, failed: 3, message: 'Too many users have failed or been skipped during the import.' }],
        ],
      },
    ],
  },
  {
    id: 'eu-west-1_Initech',
    name: 'tenant-initech',
    jobs: [
      {
        id: 'import-InitechHr13',
        name: 'initech-hr',
        note: 'goes through with 3 users failed: UsersFailed warns, naming this pool',
        steps: [
          ['13:00', 'Created'],
          ['13:02', 'InProgress'],
          ['13:40', 'Succeeded', { imported: 870, skipped: 2, failed: 3 }],
        ],
      },
    ],
  },
  {
    id: 'eu-west-1_Umbrel1',
    name: 'tenant-umbrella-sandbox',
    jobs: [
      {
        id: 'import-SandboxT10',
        name: 'sandbox-test',
        note: 'fails in a sandbox, left out of the fleet (`*-sandbox`): pages nobody',
        steps: [
          ['10:00', 'Created'],
          ['10:01', 'InProgress'],
          ['10:15', 'Failed', { failed: 50 }],
        ],
      },
    ],
  },
];

/** The job as Cognito lists it at `t`, or undefined before it was created. */
export function jobAt(story: JobStory, t: number): FakeJob | undefined {
  const steps = story.steps.filter(([time]) => at(time) <= t);
  if (steps.length === 0) return undefined;
  const [, status, counts = {}] = steps[steps.length - 1];
  const firstAt = (statuses: string[]) => story.steps.find(([time, s]) => statuses.includes(s) && at(time) <= t)?.[0];
  const started = firstAt(['Pending', 'InProgress']);
  const completed = ENDED.includes(status) ? firstAt([status]) : undefined;
  return {
    JobId: story.id,
    JobName: story.name,
    Status: status,
    CreationDate: new Date(at(story.steps[0][0])),
    StartDate: started ? new Date(at(started)) : undefined,
    CompletionDate: completed ? new Date(at(completed)) : undefined,
    ImportedUsers: counts.imported ?? 0,
    SkippedUsers: counts.skipped ?? 0,
    FailedUsers: counts.failed ?? 0,
    ...(counts.message ? { CompletionMessage: counts.message } : {}),
  };
}

/** The pool's jobs as Cognito lists them at `t`, newest first. */
export function poolAt(pool: PoolStory, t: number): FakeJob[] {
  return pool.jobs
    .map((story) => jobAt(story, t))
    .filter((job): job is FakeJob => job !== undefined)
    .sort((a, b) => b.CreationDate.getTime() - a.CreationDate.getTime());
}
