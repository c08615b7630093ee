/**
 * The handler: how it runs, and its code, the bundle `npm run build` writes and the npm package ships, with a fleet's
 * list beside it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Token, aws_lambda as lambda } from 'aws-cdk-lib';

// By name rather than Runtime.NODEJS_24_X, which older aws-cdk-lib releases lack: apps on those can use the
// library, and the function still runs on the newest Node.js that Lambda offers.
const NODEJS_24 = new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });

// Lambda's bounds on an asynchronous invocation's age.
const MAX_EVENT_AGE = { min: Duration.minutes(1), max: Duration.hours(6) };

/** How the function runs, for a monitor invoked every `activeSchedule`. */
export function handlerSettings(activeSchedule: Duration): Pick<
  lambda.FunctionProps, 'runtime' | 'architecture' | 'handler' | 'timeout' | 'retryAttempts' | 'maxEventAge'
> {
  return {
    runtime: NODEJS_24,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    timeout: Duration.minutes(2),
    // No retries: a failed run leaves the pool due, so the next tick, one active interval later, runs it again;
    // a retry would only run beside that tick. For the same reason an invocation that waited longer than one
    // tick in Lambda's queue is dropped.
    retryAttempts: 0,
    maxEventAge: clampDuration(activeSchedule, MAX_EVENT_AGE.min, MAX_EVENT_AGE.max),
  };
}

function clampDuration(value: Duration, min: Duration, max: Duration): Duration {
  if (value.toSeconds() < min.toSeconds()) return min;
  return value.toSeconds() > max.toSeconds() ? max : value;
}

/** The name of the file beside the handler bundle that lists a fleet's pools (see `ENV_USER_POOL_IDS_FILE`). */
export const USER_POOL_IDS_FILE_NAME = 'user-pools.json';

/** The function's code: the bundle, or a copy of it with `pools`, the list of a fleet too long for its environment. */
export function handlerCode(pools?: string[]): lambda.Code {
  return lambda.Code.fromAsset(pools ? stageBundleWithPools(handlerBundleDir(), pools) : handlerBundleDir());
}

/** The pre-built handler: `npm run build` writes it, and the npm package ships it. */
function handlerBundleDir(): string {
  const dir = path.join(__dirname, '..', '..', 'assets', 'handler');
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`the handler bundle is missing at ${dir}: run "npm run build" first`);
  }
  return dir;
}

/**
 * A copy of the handler bundle with the list of pools beside it, in a new directory of this synth's own (private to
 * its user, so that nobody else on a shared build host can put code there). The asset is hashed by its content, so
 * the function changes only when the list or the bundle does.
 */
function stageBundleWithPools(bundleDir: string, ids: string[]): string {
  const tokens = ids.filter((id) => Token.isUnresolved(id));
  if (tokens.length > 0) {
    throw new Error(
      `userPools lists ${ids.length} pools, too many for the function's environment, and ${tokens.length} of them are created ` +
        'in this app, whose IDs are not known at synth: import them by ID (UserPool.fromUserPoolId), or monitor them apart',
    );
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-job-monitor-'));
  // Every file of the bundle (its code and its third-party notices), and the list.
  for (const file of fs.readdirSync(bundleDir)) fs.copyFileSync(path.join(bundleDir, file), path.join(dir, file));
  fs.writeFileSync(path.join(dir, USER_POOL_IDS_FILE_NAME), JSON.stringify([...ids].sort()));
  return dir;
}
