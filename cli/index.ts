/**
 * `import-job-monitor`, the command installed with the package (`npx import-job-monitor status ...`): what the
 * monitor sees of a pool's import jobs, now, from a terminal. Bundled by `npm run build` into assets/cli/index.js.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, UsageError, parseCommand } from './args';
import { renderFleet, renderPool, toJson } from './render';
import { AwsFailure, isFailure, listStatus } from './status';

/** The exit codes, as `--help` and docs/cli.md tell them. */
export const EXIT = { ok: 0, failedSince: 1, usage: 2, aws: 3 } as const;

const HELP = `Usage: import-job-monitor status --user-pool-id <id> [options]
       import-job-monitor status --user-pool-id <id> --user-pool-id <id> ... [options]
       import-job-monitor status --discover [--include <pattern>]... [--exclude <pattern>]... [--region <region>] [options]

Lists a Cognito user pool's import jobs (every page of ListUserImportJobs) with the gauges the
import-job-monitor construct would publish now from the same listing. Several pools, or --discover,
print one line per pool.

Options:
  --user-pool-id <id>       a user pool ID such as eu-west-1_AbC123; repeat it, or separate IDs with
                            commas, for one line per pool
  --region <region>         the region to call: by default the pool ID's region (a pool is listed in
                            its own region only); with --discover, AWS_REGION or your AWS config's
  --discover                every pool of the region that the patterns select, as a discovering
                            monitor's discoverUserPools
  --include <pattern>       with --discover: a pool whose ID or name matches it (* for any run of
                            characters); repeatable; none: every pool
  --exclude <pattern>       with --discover: leave out a pool whose ID or name matches it; repeatable
  --since <duration>        30m, 24h, 7d...: exit 1 if a job ended Failed or Expired within it
  --awaiting-start-warning <duration>
                            when a Created job counts in JobsAwaitingStart (default 12h, the construct's)
  --stuck-warning <duration>
                            when a running job counts in JobsStuck (default 12h, the construct's)
  --json                    machine-readable output on stdout
  -h, --help                this help
  -v, --version             the package's version

Exit codes:
  0  listed; with --since, no job failed or expired within it
  1  --since: a job failed or expired within it (in any pool listed)
  2  a bad command line: an unknown option, a bad pool ID, pattern or duration
  3  AWS said no, or could not be asked: no credentials, a pool not found, access denied, throttled past
     the retries (with several pools: one of them could not be listed, and no job failed within --since)

Credentials and region come from the usual AWS places (AWS_PROFILE, AWS_ACCESS_KEY_ID, ~/.aws/config).
IAM: cognito-idp:ListUserImportJobs on each pool, and cognito-idp:ListUserPools for --discover.
Reference: docs/cli.md in the package's repository.
`;

/** Runs a command line; returns the exit code. */
export async function main(argv: readonly string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`import-job-monitor: ${error.message}\nRun import-job-monitor --help for the options.\n`);
    return EXIT.usage;
  }
  if (command.kind === 'help') {
    out(HELP);
    return EXIT.ok;
  }
  if (command.kind === 'version') {
    out(`${version()}\n`);
    return EXIT.ok;
  }
  const { options } = command;
  const log = {
    info: () => undefined,
    warn: (message: string, fields: Record<string, unknown>) => err(`import-job-monitor: warning: ${message} ${JSON.stringify(fields)}\n`),
    error: (message: string, fields: Record<string, unknown>) => err(`import-job-monitor: ${message} ${JSON.stringify(fields)}\n`),
  };
  let listed;
  try {
    listed = await listStatus(options, () => new Date(), log);
  } catch (error) {
    if (!(error instanceof AwsFailure)) throw error;
    err(`import-job-monitor: ${error.message}\n`);
    return EXIT.aws;
  }
  const now = new Date();
  const { results } = listed;
  const fleet = listed.discovered || results.length !== 1;
  for (const failure of results.filter(isFailure)) err(`import-job-monitor: ${failure.error.message}\n`);
  if (!fleet && isFailure(results[0])) return EXIT.aws;
  if (options.json) out(toJson(results, fleet, options, now));
  else if (fleet) out(renderFleet(results, options, now));
  else out(renderPool(results[0] as Exclude<(typeof results)[0], { error: unknown }>, options, now));
  // A job found failed is a fact whatever else could not be listed: it wins over an AWS error.
  if (results.some((r) => !isFailure(r) && r.failedSince.length > 0)) return EXIT.failedSince;
  return results.some(isFailure) ? EXIT.aws : EXIT.ok;
}

/** The package's version, from its package.json: two levels up from assets/cli/index.js, as installed. */
function version(): string {
  for (const dir of [path.join(__dirname, '..', '..'), path.join(__dirname, '..')]) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (manifest.name === 'import-job-monitor') return manifest.version;
    } catch {
      // Not there: the next candidate.
    }
  }
  return 'unknown';
}

if (require.main === module) {
  main(
    process.argv.slice(2),
    (text) => process.stdout.write(text),
    (text) => process.stderr.write(text),
  ).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`import-job-monitor: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = EXIT.aws;
    },
  );
}
