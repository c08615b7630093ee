/**
 * A failed AWS call told as what to do about it: the handler's OperationError (lambda/calls.ts) names the call and
 * keeps the SDK's error as its cause; the person at the terminal wants the fix.
 */
import { OperationError } from '../lambda/calls';

const ACCESS_DENIED = new Set(['AccessDeniedException', 'AccessDenied', 'NotAuthorizedException', 'UnauthorizedOperation', 'UnrecognizedClientException', 'InvalidSignatureException']);
const NETWORK = new Set(['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'LimitExceededException']);

/** Where the call went: a pool (its ID names its region), or a region, for ListUserPools. */
export interface Target {
  readonly userPoolId?: string;
  readonly region?: string;
}

/** One line, or a few, that say what failed and what to do. */
export function describeFailure(error: unknown, target: Target): string {
  const cause = (error instanceof OperationError ? error.cause : error) as { name?: string; message?: string; $metadata?: { attempts?: number } } | undefined;
  const name = cause?.name ?? 'Error';
  const message = cause?.message ?? String(error);
  // "ListUserImportJobs page 2": the IAM action is the operation's name.
  const action = error instanceof OperationError ? error.operation.split(' ')[0] : 'ListUserImportJobs';
  const where = target.userPoolId ? `user pool ${target.userPoolId}` : `region ${target.region ?? '(the default region)'}`;
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return (
      'no AWS credentials found: set AWS_PROFILE to a profile of your AWS config (after `aws sso login` for an SSO profile), ' +
      'or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), then run again'
    );
  }
  if (/region is missing/i.test(message)) {
    return 'no region: give --region (e.g. --region eu-west-1), or set AWS_REGION, to discover the pools of a region';
  }
  if (name === 'ResourceNotFoundException') {
    return (
      `user pool ${target.userPoolId} not found in region ${target.region}: check the ID, and that the credentials are ` +
      `those of the pool's account (${message})`
    );
  }
  if (ACCESS_DENIED.has(name)) {
    const resource = target.userPoolId ? ` on user pool ${target.userPoolId}` : '';
    const arn = target.userPoolId
      ? `arn:aws:cognito-idp:${target.region}:<account>:userpool/${target.userPoolId}`
      : '"*" (ListUserPools takes no narrower resource)';
    return `access denied: the credentials may not call cognito-idp:${action}${resource}: allow that action on ${arn} (${name}: ${message})`;
  }
  if (THROTTLED.has(name)) {
    const attempts = cause?.$metadata?.attempts;
    return (
      `Cognito throttled ${action} for ${where}${attempts ? ` ${attempts} times in a row` : ''}: its read quota is the ` +
      `account's, per region, shared with every other caller (monitors included): try again in a minute (${message})`
    );
  }
  const attempts = cause?.$metadata?.attempts;
  const tries = attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : '';
  if (NETWORK.has(name) || NETWORK.has((cause as { code?: string } | undefined)?.code ?? '')) {
    return `Cognito did not answer ${action} for ${where}${tries} (${name}: ${message}): check the network, a proxy, or AWS_ENDPOINT_URL if set`;
  }
  return `${error instanceof OperationError ? error.operation : action} for ${where} failed${tries}: ${name}: ${message}`;
}
