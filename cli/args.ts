/**
 * The command line, read and checked before any AWS call: each bad value is named, with the form expected, and exits 2.
 */
import { parseArgs } from 'util';
import { userPoolRegion } from '../lib/contract';
import { DEFAULT_WARNING_SECONDS } from '../lambda/config';

/** A command line that cannot be run: exit code 2, with this message and a pointer to `--help`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Which pools `status` lists: those named, or those of a region that the patterns select. */
export type Pools =
  | { readonly kind: 'list'; readonly userPoolIds: readonly string[] }
  | { readonly kind: 'discover'; readonly region?: string; readonly include: readonly string[]; readonly exclude: readonly string[] };

export interface StatusOptions {
  readonly pools: Pools;
  readonly json: boolean;
  /** `--since`: as given, and in milliseconds. */
  readonly since?: { readonly text: string; readonly ms: number };
  /** When a job waiting to start, or running, counts in JobsAwaitingStart or JobsStuck: the construct's defaults unless given. */
  readonly awaitingStartMs: number;
  readonly stuckMs: number;
}

export type Command = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'status'; readonly options: StatusOptions };

const OPTIONS = {
  'user-pool-id': { type: 'string', multiple: true },
  region: { type: 'string' },
  discover: { type: 'boolean' },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  since: { type: 'string' },
  'awaiting-start-warning': { type: 'string' },
  'stuck-warning': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

const ID_FORM = 'a user pool ID such as eu-west-1_AbC123 (its region, an underscore, letters and digits)';

export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs' own words name the option: "Unknown option '--foo'", "Option '--since <value>' argument missing".
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (positionals.length === 0) throw new UsageError('a command is needed: status');
  if (positionals[0] !== 'status') throw new UsageError(`unknown command ${JSON.stringify(positionals[0])}: the command is status`);
  if (positionals.length > 1) throw new UsageError(`status takes no arguments but its options, got ${JSON.stringify(positionals.slice(1).join(' '))}`);

  const ids = (values['user-pool-id'] ?? []).flatMap((value) => value.split(',')).map((id) => id.trim());
  const region = values.region;
  if (region !== undefined && !/^[a-z]{2,4}(-[a-z]+)+-\d{1,2}$/.test(region)) {
    throw new UsageError(`--region must be an AWS region such as eu-west-1, got ${JSON.stringify(region)}`);
  }
  let pools: Pools;
  if (values.discover) {
    if (ids.length > 0) throw new UsageError('give either --user-pool-id or --discover, not both');
    const patterns = (name: 'include' | 'exclude') => {
      const given = values[name] ?? [];
      const bad = given.find((p) => p.trim() === '');
      if (bad !== undefined) throw new UsageError(`--${name} takes a pattern of a pool's ID or name, with * for any run of characters, got ${JSON.stringify(bad)}`);
      return given;
    };
    pools = { kind: 'discover', region, include: patterns('include'), exclude: patterns('exclude') };
  } else {
    if (values.include || values.exclude) throw new UsageError('--include and --exclude select pools for --discover: give --discover too');
    if (ids.length === 0) throw new UsageError('status needs --user-pool-id <id> (one or more), or --discover');
    for (const id of ids) {
      const idRegion = userPoolRegion(id);
      if (idRegion === undefined) throw new UsageError(`--user-pool-id must be ${ID_FORM}, got ${JSON.stringify(id)}`);
      // A pool lives in the region its ID names: listing it in another would only fail, as "not found".
      if (region !== undefined && region !== idRegion) {
        throw new UsageError(`--region ${region} is not the region of user pool ${id} (${idRegion}): a pool is listed in the region its ID names; leave --region out`);
      }
    }
    pools = { kind: 'list', userPoolIds: [...new Set(ids)] };
  }
  const since = values.since === undefined ? undefined : { text: values.since, ms: parseDuration('--since', values.since) };
  const warning = (name: 'awaiting-start-warning' | 'stuck-warning') =>
    values[name] === undefined ? DEFAULT_WARNING_SECONDS * 1000 : parseDuration(`--${name}`, values[name]);
  return {
    kind: 'status',
    options: { pools, json: values.json ?? false, since, awaitingStartMs: warning('awaiting-start-warning'), stuckMs: warning('stuck-warning') },
  };
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30m`, `24h`, `7d`: a whole number from 1 of minutes, hours or days, in milliseconds. */
export function parseDuration(option: string, text: string): number {
  const match = /^(\d{1,6})([mhd])$/.exec(text);
  const ms = match ? Number(match[1]) * UNITS[match[2]] : 0;
  if (ms <= 0) {
    throw new UsageError(`${option} must be a duration such as 30m, 24h or 7d (a whole number of minutes, hours or days, from 1), got ${JSON.stringify(text)}`);
  }
  return ms;
}
