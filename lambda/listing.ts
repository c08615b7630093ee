/**
 * Listing a pool's import jobs, free of I/O: following ListUserImportJobs' pagination tokens to the end, with the
 * guard against a token that comes back. The caller makes the call itself (see run.ts).
 */
import type { UserImportJobType } from '@aws-sdk/client-cognito-identity-provider';

/** Cognito's largest accepted `MaxResults`; a page still holds at most 50 jobs. */
export const PAGE_SIZE = 60;

/** A page of `ListUserImportJobs`, reduced to what the monitor reads. */
export interface JobPage {
  readonly jobs: readonly UserImportJobType[];
  readonly nextToken?: string;
}

/** The listing stopped before its end: publishing from it would report wrong numbers. */
export class IncompleteListingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteListingError';
  }
}

/**
 * Lists every job of a pool, following `PaginationToken` to the end, asking for pages 1, 2, ... in turn.
 * A token that comes back a second time would loop for ever (or skip pages): it fails the listing instead.
 * A job seen on two pages (the list shifted under us) is kept once, as last seen; one without an ID is kept as it
 * is, for the check that names what is wrong with it (job-check.ts).
 */
export async function listAllJobs(fetchPage: (token: string | undefined, page: number) => Promise<JobPage>): Promise<{
  jobs: UserImportJobType[];
  pages: number;
}> {
  const byId = new Map<string, UserImportJobType>();
  const unnamed: UserImportJobType[] = [];
  const seenTokens = new Set<string>();
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(token, pages + 1);
    pages++;
    for (const job of page.jobs) {
      if (job.JobId) byId.set(job.JobId, job);
      else unnamed.push(job);
    }
    token = page.nextToken || undefined;
    if (token !== undefined) {
      if (seenTokens.has(token)) {
        throw new IncompleteListingError(
          `ListUserImportJobs returned pagination token ${JSON.stringify(token)} twice (after ${pages} pages, ${byId.size} jobs)`,
        );
      }
      seenTokens.add(token);
    }
  } while (token !== undefined);
  return { jobs: [...byId.values(), ...unnamed], pages };
}
