/** The handler's code: the bundle `npm run build` writes and the npm package ships, and a fleet's list beside it. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Token, aws_lambda as lambda } from 'aws-cdk-lib';

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
  fs.copyFileSync(path.join(bundleDir, 'index.js'), path.join(dir, 'index.js'));
  fs.writeFileSync(path.join(dir, USER_POOL_IDS_FILE_NAME), JSON.stringify([...ids].sort()));
  return dir;
}
