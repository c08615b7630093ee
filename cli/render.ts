/** What `status` prints: tables for a person, JSON for a script (`--json`), from the same results. */
import { JOB_STATUSES, METRIC_INVALID_JOBS, METRIC_JOBS, METRIC_JOBS_AWAITING_START, METRIC_JOBS_STUCK, isCompletedStatus } from '../lib/contract';
import type { StatusOptions } from './args';
import { JobView, PoolResult, PoolStatus, isFailure } from './status';

// Notes in the job table stay on one line of a terminal; --json has the whole message.
const NOTE_LENGTH = 80;

/** One pool: a line about the listing, a row per job, the gauges, and what --since found. */
export function renderPool(pool: PoolStatus, options: StatusOptions, now: Date): string {
  const out = [
    `User pool ${pool.userPoolId}${pool.name ? ` (${cell(pool.name)})` : ''} in ${pool.region}: ${plural(pool.jobs.length, 'import job')} ` +
      `in ${plural(pool.pages, 'page')} of ListUserImportJobs, at ${iso(now)}; times in UTC, ages from creation`,
    '',
  ];
  if (pool.jobs.length === 0) out.push('No import jobs.');
  else {
    out.push(
      table(
        ['JOB ID', 'NAME', 'STATUS', 'IMPORTED', 'SKIPPED', 'FAILED', 'CREATED', 'STARTED', 'COMPLETED', 'AGE', 'NOTE'],
        pool.jobs.map((job) => [
          cell(job.jobId),
          cell(job.jobName),
          cell(job.status),
          cell(job.importedUsers),
          cell(job.skippedUsers),
          cell(job.failedUsers),
          minute(job.creationDate),
          minute(job.startDate),
          minute(job.completionDate),
          job.creationDate ? age(now.getTime() - job.creationDate.getTime()) : '-',
          note(job, options),
        ]),
        [3, 4, 5],
      ),
    );
  }
  const hours = (ms: number) => age(ms);
  const gauges = pool.gauges;
  out.push(
    '',
    `Gauges the monitor would publish now, from this listing (dimension UserPoolId=${pool.userPoolId}):`,
    table(
      ['METRIC', 'VALUE', ''],
      [
        ...JOB_STATUSES.map((status) => [
          `${METRIC_JOBS}{Status=${status}}`,
          String(gauges[METRIC_JOBS][status]),
          // An ended job stays listed for ever: the monitor publishes no gauge of ended statuses, only their counts.
          isCompletedStatus(status) ? 'jobs listed in it; not published' : 'published while not zero',
        ]),
        [METRIC_JOBS_AWAITING_START, String(gauges[METRIC_JOBS_AWAITING_START]), `Created more than ${hours(options.awaitingStartMs)} ago and not started`],
        [METRIC_JOBS_STUCK, String(gauges[METRIC_JOBS_STUCK]), `Pending, InProgress or Stopping for more than ${hours(options.stuckMs)}`],
        [METRIC_INVALID_JOBS, String(gauges[METRIC_INVALID_JOBS]), 'listed jobs the monitor leaves out; published only when not zero'],
      ],
      [1],
    ).replace(/^/gm, '  '),
    'The counts (JobsCompleted, ImportedUsers, SkippedUsers, FailedUsers, FailedUsersOfEndedJobs) are changes between ' +
      "the monitor's runs, kept in its state table: a listing cannot tell them.",
  );
  if (options.since) out.push('', sinceLine(pool.failedSince, options.since.text, now));
  return `${out.join('\n').replace(/[ ]+$/gm, '')}\n`;
}

/** A fleet: a line per pool, its failure in place of its figures. */
export function renderFleet(results: readonly PoolResult[], options: StatusOptions, now: Date): string {
  const { pools } = options;
  const how =
    pools.kind === 'discover'
      ? `discovered in ${pools.region ?? results[0]?.region ?? 'the default region'}${pools.include.length ? ` (include ${pools.include.join(', ')})` : ''}` +
        `${pools.exclude.length ? ` (exclude ${pools.exclude.join(', ')})` : ''}`
      : 'listed';
  const failed = results.filter(isFailure).length;
  const out = [`${plural(results.length, 'user pool')} ${how}, at ${iso(now)}${failed ? `; ${failed} could not be listed` : ''}`, ''];
  if (results.length === 0) out.push('No user pool.');
  else {
    const since = options.since ? [`FAILED/EXPIRED IN ${options.since.text}`] : [];
    out.push(
      table(
        ['POOL ID', 'NAME', 'JOBS', ...JOB_STATUSES, 'AWAITING START', 'STUCK', 'INVALID', ...since, 'NOTE'],
        results.map((r) => {
          if (isFailure(r)) {
            return [r.userPoolId, cell(r.name), '-', ...JOB_STATUSES.map(() => '-'), '-', '-', '-', ...since.map(() => '-'), oneLine(r.error.message, 200)];
          }
          const g = r.gauges;
          return [
            r.userPoolId,
            cell(r.name),
            String(r.jobs.length),
            ...JOB_STATUSES.map((s) => String(g[METRIC_JOBS][s])),
            String(g[METRIC_JOBS_AWAITING_START]),
            String(g[METRIC_JOBS_STUCK]),
            String(g[METRIC_INVALID_JOBS]),
            ...since.map(() => String(r.failedSince.length)),
            '',
          ];
        }),
        Array.from({ length: JOB_STATUSES.length + 4 + since.length }, (_, i) => i + 2),
      ),
    );
  }
  if (options.since) {
    for (const r of results) {
      if (!isFailure(r) && r.failedSince.length > 0) out.push('', `${r.userPoolId}: ${sinceLine(r.failedSince, options.since.text, now)}`);
    }
  }
  return `${out.join('\n').replace(/[ ]+$/gm, '')}\n`;
}

/** The same results for a script: one pool as an object, a fleet as `pools`. Dates ISO 8601, ages in seconds. */
export function toJson(results: readonly PoolResult[], fleet: boolean, options: StatusOptions, now: Date): string {
  const since = options.since ? { since: { duration: options.since.text, from: iso(new Date(now.getTime() - options.since.ms)) } } : {};
  const pool = (r: PoolResult) =>
    isFailure(r)
      ? r
      : {
          userPoolId: r.userPoolId,
          region: r.region,
          ...(r.name !== undefined ? { name: r.name } : {}),
          pages: r.pages,
          jobCount: r.jobs.length,
          metrics: r.gauges,
          ...(options.since ? { failedSince: r.failedSince.map((j) => j.jobId) } : {}),
          ...(fleet ? {} : { jobs: r.jobs.map((j) => jobJson(j, now)) }),
        };
  const body = fleet ? { listedAt: iso(now), ...since, pools: results.map(pool) } : { listedAt: iso(now), ...since, ...pool(results[0]) };
  return `${JSON.stringify(body, null, 2)}\n`;
}

function jobJson(job: JobView, now: Date): Record<string, unknown> {
  const date = (d?: Date) => (d ? d.toISOString() : null);
  return {
    jobId: job.jobId ?? null,
    jobName: job.jobName ?? null,
    status: job.status ?? null,
    importedUsers: job.importedUsers ?? null,
    skippedUsers: job.skippedUsers ?? null,
    failedUsers: job.failedUsers ?? null,
    creationDate: date(job.creationDate),
    startDate: date(job.startDate),
    completionDate: date(job.completionDate),
    completionMessage: job.completionMessage ?? null,
    ageSeconds: job.creationDate ? Math.floor((now.getTime() - job.creationDate.getTime()) / 1000) : null,
    awaitingStart: job.awaitingStart,
    stuck: job.stuck,
    problems: job.problems,
  };
}

function sinceLine(jobs: readonly JobView[], since: string, now: Date): string {
  if (jobs.length === 0) return `Failed or expired within ${since}: none.`;
  const each = jobs.map((j) => {
    const ended = j.completionDate ?? j.creationDate!;
    return `${cell(j.jobId)} (${cell(j.jobName)}, ${cell(j.status)} ${age(now.getTime() - ended.getTime())} ago)`;
  });
  return `Failed or expired within ${since}: ${plural(jobs.length, 'job')}: ${each.join(', ')}.`;
}

function note(job: JobView, options: StatusOptions): string {
  if (job.problems.length > 0) return oneLine(`left out by the monitor: ${job.problems.join('; ')}`, NOTE_LENGTH);
  if (job.awaitingStart) return `awaiting start > ${age(options.awaitingStartMs)}: start it (StartUserImportJob)`;
  if (job.stuck) return `running > ${age(options.stuckMs)}: if its counts no longer grow, stop it (StopUserImportJob)`;
  return job.completionMessage ? oneLine(job.completionMessage, NOTE_LENGTH) : '';
}

/** Columns padded to their widest cell; those in `right` (numbers) aligned right. */
function table(headings: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const widths = headings.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (right.includes(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(headings), ...rows.map(line)].join('\n');
}

/** A listed value as one printable cell: a string that holds a control character is shown escaped, as JSON. */
function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const text = String(value);
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(text) ? JSON.stringify(text) : text;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function minute(date?: Date): string {
  return date ? date.toISOString().slice(0, 16).replace('T', ' ') : '-';
}

/** An age to the minute, in its two largest units: `45m`, `2h 5m`, `3d 4h`; under a minute, `0m`. */
export function age(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  return `${m}m`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
