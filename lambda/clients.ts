/**
 * The AWS clients of a run, made once per execution environment: each with its timeouts and retries, a Cognito
 * client paced for a single pool or per region for a fleet, the state table's and the bus's.
 */
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Config, DEFAULT_COGNITO_REQUESTS_PER_SECOND, Settings } from './config';

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
 * A Cognito client for one region (the function's own when undefined), whose calls are spaced out to at most
 * `requestsPerSecond`. Adaptive retries back off and slow down on TooManyRequestsException, and their client-side
 * rate limit is shared by every call made with the client: a fleet's pools in one region share one client, so they
 * slow down together under the account's quota.
 */
export function cognitoClient(region: string | undefined, maxAttempts: number, requestsPerSecond: number): CognitoIdentityProviderClient {
  const client = new CognitoIdentityProviderClient({ region, retryMode: 'adaptive', maxAttempts, requestHandler: TIMEOUTS });
  const wait = rateLimiter(requestsPerSecond);
  // At the build step: once a call, before its attempts (the adaptive retries pace those).
  client.middlewareStack.add((next) => async (args) => {
    await wait();
    return next(args);
  }, { step: 'build', name: 'importJobMonitorRateLimit' });
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
  // In the pool's region, which may not be the function's: the call is signed for that region too. Paced as a fleet's
  // pools are: the quota is the account's, and a pool of many pages (or a token that never ends) would spend it all.
  const rate = config.cognitoRequestsPerSecond ?? DEFAULT_COGNITO_REQUESTS_PER_SECOND;
  return { cognito: cognitoClient(config.userPoolRegion, config.maxAttempts, rate), ...storeClients(config) };
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
