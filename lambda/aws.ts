/** The AWS edges of a run: the clients with their timeouts, and one wrapper that names each call that fails. */
import {
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Config, Settings } from './config';

/** Where a run's log lines go; Powertools' Logger is one. */
export interface Log {
  info(message: string, fields: Record<string, unknown>): void;
  warn(message: string, fields: Record<string, unknown>): void;
  error(message: string, fields: Record<string, unknown>): void;
}

/** When a run must end: its AWS calls still under way are aborted then, so that it fails with its cause logged. */
export interface Deadline {
  readonly at: Date;
  readonly signal: AbortSignal;
}

export interface RunDependencies {
  readonly cognito: CognitoIdentityProviderClient;
  readonly dynamodb: DynamoDBDocumentClient;
  /** Set when events are on. */
  readonly events?: EventBridgeClient;
  readonly config: Config;
  readonly now: Date;
  readonly log: Log;
  readonly deadline?: Deadline;
  /** The pool's name when already known (a fleet's discovery lists it), saving a DescribeUserPool. */
  readonly userPoolName?: string;
}

// Leave this long before the function's timeout for logging a run that runs out of time.
export const TIMEOUT_MARGIN_MS = 5_000;

/**
 * An AWS call of a run failed. It keeps the original error's name (ResourceNotFoundException, TimeoutError,
 * AbortError...), which operators search for, and the original as its cause; its message adds the call, the
 * pool, and the deadline when that is what cut the call off.
 */
export class OperationError extends Error {
  public readonly operation: string;
  public readonly userPoolId: string;
  /** Set when the run's deadline had passed: the call was cut off rather than failed by AWS. */
  public readonly deadline?: string;

  constructor(operation: string, userPoolId: string, cause: Error, deadline?: Date) {
    const attempts = (cause as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    const how = deadline
      ? `was cut off by the run's deadline, ${deadline.toISOString()} (${TIMEOUT_MARGIN_MS / 1000} s before the function's timeout)`
      : attempts
        ? `failed after ${attempts} attempt${attempts === 1 ? '' : 's'}`
        : 'failed';
    // A fleet's own calls (its pools, their due times) are made for the monitor, not for one pool.
    const subject = userPoolId.startsWith('monitor ') ? userPoolId : `user pool ${userPoolId}`;
    super(`${operation} for ${subject} ${how}: ${cause.name}: ${cause.message}`, { cause });
    this.name = cause.name;
    this.operation = operation;
    this.userPoolId = userPoolId;
    if (deadline) this.deadline = deadline.toISOString();
  }
}

/** Makes one AWS call of a run under its deadline; a failure says which call it was (see OperationError). */
export async function call<T>(
  deps: RunDependencies,
  operation: string,
  send: (options: { abortSignal?: AbortSignal }) => Promise<T>,
): Promise<T> {
  try {
    return await send({ abortSignal: deps.deadline?.signal });
  } catch (error) {
    const cause = error instanceof Error ? error : new Error(String(error));
    const deadline = deps.deadline?.signal.aborted ? deps.deadline.at : undefined;
    throw new OperationError(operation, deps.config.userPoolId, cause, deadline);
  }
}


/**
 * Per attempt. ListUserImportJobs and DynamoDB's single-item and 1 MB-page calls answer in well under a second,
 * so an attempt still silent after seconds has hung: cut it off, and let the SDK retry it (it counts a
 * TimeoutError as transient). Connecting gets 3 s, time for a TCP handshake whose first SYN was lost (Linux resends
 * it after 1 s). An attempt gets 5 s until the answer starts (`requestTimeout`, which only warns unless
 * `throwOnRequestTimeout`), then 5 s of silence at most while it is read (`socketTimeout`; the SDK's default is
 * 300 s). A hung call thus fails by itself after at most 8 x 5 s plus under 6.4 s of back-off, ~47 s; in Lambda the
 * run's deadline comes first if that is sooner.
 */
const TIMEOUTS = { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true, socketTimeout: 5_000 };

export interface Clients {
  readonly cognito: CognitoIdentityProviderClient;
  readonly dynamodb: DynamoDBDocumentClient;
  readonly events?: EventBridgeClient;
}

/**
 * A Cognito client for one region (the function's own when undefined). Adaptive retries back off and slow down
 * on TooManyRequestsException, and their client-side rate limit is shared by every call made with the client:
 * a fleet's pools in one region share one client, so they slow down together under the account's quota.
 */
export function cognitoClient(region: string | undefined, maxAttempts: number, requestsPerSecond?: number): CognitoIdentityProviderClient {
  const client = new CognitoIdentityProviderClient({ region, retryMode: 'adaptive', maxAttempts, requestHandler: TIMEOUTS });
  if (requestsPerSecond !== undefined) {
    const wait = rateLimiter(requestsPerSecond);
    // At the build step: once a call, before its attempts (the adaptive retries pace those).
    client.middlewareStack.add((next) => async (args) => {
      await wait();
      return next(args);
    }, { step: 'build', name: 'importJobMonitorRateLimit' });
  }
  return client;
}

/** Spaces the calls of everyone who awaits it out to at most `perSecond`, first come first served. */
export function rateLimiter(perSecond: number): () => Promise<void> {
  let free = 0;
  return () => {
    const now = Date.now();
    const at = Math.max(now, free);
    free = at + 1000 / perSecond;
    return at > now ? new Promise((resolve) => setTimeout(resolve, at - now)) : Promise.resolve();
  };
}

/** A single pool's clients. */
export function createClients(config: Config): Clients {
  // In the pool's region, which may not be the function's: the call is signed for that region too.
  return { cognito: cognitoClient(config.userPoolRegion, config.maxAttempts), ...storeClients(config) };
}

/** The clients every pool of a monitor shares: its state table's and its bus's (a fleet makes its Cognito clients per region). */
export function storeClients(config: Settings): Omit<Clients, 'cognito'> {
  return {
    // The state table is the function's own, in its region (AWS_REGION).
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: config.maxAttempts, requestHandler: TIMEOUTS })),
    // A bus is sent to in its own region, which its ARN names; a bus given by name is the function's region's.
    events: config.eventBusName
      ? new EventBridgeClient({ region: busRegion(config.eventBusName), maxAttempts: config.maxAttempts, requestHandler: TIMEOUTS })
      : undefined,
  };
}

function busRegion(bus: string): string | undefined {
  return /^arn:[\w-]+:events:([a-z0-9-]+):/.exec(bus)?.[1];
}
