/**
 * Every listed job checked at the boundary, free of I/O: what Cognito (or whatever answers in its place) returns is
 * used only once it makes sense. A job that does not is left out of the run, named in the log with what was wrong,
 * and counted (`InvalidJobs`); it blocks nothing else.
 */
import type { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';

// Cognito's own pattern and length for a job ID.
const JOB_ID = /^import-[0-9a-zA-Z-]{1,48}$/;
const COUNTS = ['ImportedUsers', 'SkippedUsers', 'FailedUsers'] as const;
const DATES = ['CreationDate', 'StartDate', 'CompletionDate'] as const;
// No job predates Cognito's user import (2016), and none is dated more than a day ahead of the run's clock.
const EARLIEST = Date.UTC(2016, 0, 1);
const LATEST_AHEAD_MS = 86_400_000;

/** A listed job that failed the check: its ID as listed (JSON-escaped), and what was wrong. */
export interface InvalidJob {
  readonly jobId: string;
  readonly problems: readonly string[];
}

/** What is wrong with a job, or nothing. A count must be a safe integer from 0 (a numeric string is refused too). */
export function jobProblems(job: UserImportJobType, now: Date): string[] {
  const problems: string[] = [];
  if (typeof job.JobId !== 'string' || !JOB_ID.test(job.JobId)) problems.push(`JobId is not a job ID: ${JSON.stringify(job.JobId ?? null)}`);
  for (const field of COUNTS) {
    const value: unknown = job[field];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= 0)) {
      problems.push(`${field} is not a count from 0 to 2^53-1: ${JSON.stringify(value)}`);
    }
  }
  for (const field of DATES) {
    const value: unknown = job[field];
    if (value === undefined) continue;
    const time = value instanceof Date ? value.getTime() : NaN;
    if (!(time >= EARLIEST && time <= now.getTime() + LATEST_AHEAD_MS)) {
      problems.push(`${field} is not a date from 2016 to a day ahead: ${Number.isNaN(time) ? JSON.stringify(String(value)) : new Date(time).toISOString()}`);
    }
  }
  return problems;
}

/** The jobs that pass the check, and those that do not. */
export function checkJobs(jobs: readonly UserImportJobType[], now: Date): { valid: UserImportJobType[]; invalid: InvalidJob[] } {
  const valid: UserImportJobType[] = [];
  const invalid: InvalidJob[] = [];
  for (const job of jobs) {
    const problems = jobProblems(job, now);
    if (problems.length === 0) valid.push(job);
    else invalid.push({ jobId: JSON.stringify(job.JobId ?? null), problems });
  }
  return { valid, invalid };
}
