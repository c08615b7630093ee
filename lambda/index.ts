/**
 * The scheduled handler: lists a pool's import jobs, stores what changed since the previous run with
 * conditional writes, and publishes CloudWatch metrics (embedded metric format) for what it stored.
 */
import { randomUUID } from 'crypto';
import {
  CognitoIdentityProviderClient,
  ListUserImportJobsCommand,
  UserImportJobType,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DEFAULT_METRIC_NAMESPACE,
  DIMENSION_STATUS,
  DIMENSION_USER_POOL_ID,
  ENV_METRIC_NAMESPACE,
  ENV_SCHEDULE_SECONDS,
  ENV_STATE_TABLE_NAME,
  ENV_USER_POOL_ID,
  JOB_STATUSES,
  METRIC_FAILED_USERS,
  METRIC_HEARTBEAT,
  METRIC_JOBS_AWAITING_START,
  METRIC_JOBS_STUCK,
  METRIC_IMPORTED_USERS,
  METRIC_JOBS,
  METRIC_JOBS_COMPLETED,
  METRIC_SKIPPED_USERS,
  POOL_MARKER_SORT_KEY,
  CADENCE_SORT_KEY,
  ENV_ACTIVE_SCHEDULE_SECONDS,
  ENV_AWAITING_START_SECONDS,
  ENV_STUCK_SECONDS,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  isCompletedStatus,
  isJobStatus,
  userPoolRegion,
} from '../lib/contract';
import {
  JobChange,
  isDue,
  nextRunAt,
  PAGE_SIZE,
  RunFigures,
  StoredJobState,
  computeFigures,
  countWarnings,
  Warnings,
  WarningLimits,
  listAllJobs,
  planChanges,
} from './logic';

export interface Config {
  readonly userPoolId: string;
  /** The pool's region, from its ID: Cognito is called there, wherever the function runs. */
  readonly userPoolRegion: string;
  readonly tableName: string;
  readonly namespace: string;
  readonly periodMs: number;
  /** How often to list while a job is unfinished, and how often scheduled ticks come. */
  readonly activeMs: number;
  readonly warnings: WarningLimits;
  /** Attempts per AWS call, retries included. */
  readonly maxAttempts: number;
}

// The SDK's own setting for attempts per call; the SDK reads it only when the client is given no maxAttempts.
const ENV_MAX_ATTEMPTS = 'AWS_MAX_ATTEMPTS';
// Adaptive retries need room to back off under throttling: Cognito's request quotas are per account and region,
// shared with every other caller of the same category of operations, not per pool.
const DEFAULT_MAX_ATTEMPTS = 8;

// The construct's default for both warning limits, 12 hours.
const DEFAULT_WARNING_SECONDS = 12 * 3600;

function wholeSeconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  if (env[name] === undefined) return fallback;
  const value = Number(env[name]);
  if (!Number.isInteger(value) || value < 60) {
    throw new Error(`${name} must be a whole number of seconds, at least 60, got ${JSON.stringify(env[name])}`);
  }
  return value;
}

/** Reads the handler's settings, failing with the name and value of the first bad one. */
export function readConfig(env: NodeJS.ProcessEnv): Config {
  const userPoolId = env[ENV_USER_POOL_ID] ?? '';
  const region = userPoolRegion(userPoolId);
  if (region === undefined) {
    throw new Error(`${ENV_USER_POOL_ID} must be a user pool ID such as eu-west-1_AbC123, got ${JSON.stringify(userPoolId)}`);
  }
  const tableName = env[ENV_STATE_TABLE_NAME] ?? '';
  if (tableName === '') {
    throw new Error(`${ENV_STATE_TABLE_NAME} must name the state table, got ${JSON.stringify(tableName)}`);
  }
  const scheduleSeconds = Number(env[ENV_SCHEDULE_SECONDS]);
  if (!Number.isInteger(scheduleSeconds) || scheduleSeconds < 60) {
    throw new Error(
      `${ENV_SCHEDULE_SECONDS} must be a whole number of seconds, at least 60, got ${JSON.stringify(env[ENV_SCHEDULE_SECONDS])}`,
    );
  }
  const activeSeconds = env[ENV_ACTIVE_SCHEDULE_SECONDS] === undefined ? 60 : Number(env[ENV_ACTIVE_SCHEDULE_SECONDS]);
  if (!Number.isInteger(activeSeconds) || activeSeconds < 1 || activeSeconds > scheduleSeconds) {
    throw new Error(
      `${ENV_ACTIVE_SCHEDULE_SECONDS} must be a whole number of seconds from 1 to ${ENV_SCHEDULE_SECONDS} (${scheduleSeconds}), ` +
        `got ${JSON.stringify(env[ENV_ACTIVE_SCHEDULE_SECONDS])}`,
    );
  }
  const awaitingStartSeconds = wholeSeconds(env, ENV_AWAITING_START_SECONDS, DEFAULT_WARNING_SECONDS);
  const stuckSeconds = wholeSeconds(env, ENV_STUCK_SECONDS, DEFAULT_WARNING_SECONDS);
  const maxAttempts = env[ENV_MAX_ATTEMPTS] === undefined ? DEFAULT_MAX_ATTEMPTS : Number(env[ENV_MAX_ATTEMPTS]);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new Error(`${ENV_MAX_ATTEMPTS} must be a whole number, at least 1, got ${JSON.stringify(env[ENV_MAX_ATTEMPTS])}`);
  }
  return {
    userPoolId,
    userPoolRegion: region,
    tableName,
    namespace: env[ENV_METRIC_NAMESPACE] || DEFAULT_METRIC_NAMESPACE,
    periodMs: scheduleSeconds * 1000,
    activeMs: activeSeconds * 1000,
    warnings: { awaitingStartMs: awaitingStartSeconds * 1000, stuckMs: stuckSeconds * 1000 },
    maxAttempts,
  };
}

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
  readonly config: Config;
  readonly now: Date;
  readonly log: Log;
  readonly deadline?: Deadline;
}

// Leave this long before the function's timeout for logging a run that runs out of time.
const TIMEOUT_MARGIN_MS = 5_000;

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
    super(`${operation} for user pool ${userPoolId} ${how}: ${cause.name}: ${cause.message}`, { cause });
    this.name = cause.name;
    this.operation = operation;
    this.userPoolId = userPoolId;
    if (deadline) this.deadline = deadline.toISOString();
  }
}

/** Makes one AWS call of a run under its deadline; a failure says which call it was (see OperationError). */
async function call<T>(
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

// A type, not an interface, so that it can be logged as a record of fields.
export type RunSummary = {
  readonly userPoolId: string;
  readonly jobs: number;
  readonly pages: number;
  readonly firstRun: boolean;
  readonly changesStored: number;
  readonly changesStoredElsewhere: number;
  readonly figures: PublishedFigures;
};

/** What a run publishes: its counts, and the gauges that warn before a job is lost. */
export type PublishedFigures = RunFigures & { readonly warnings: Warnings };

// Parallel conditional writes: enough to store a first run of 1,000 jobs in well under a second.
const WRITE_CONCURRENCY = 16;

/**
 * One run for one pool. Nothing is stored or published unless the listing is complete; then each
 * change is stored with a conditional write, and only the changes this run stored are counted.
 */
export async function runOnce(deps: RunDependencies): Promise<RunSummary> {
  const { cognito, config, log } = deps;

  const { jobs, pages } = await listAllJobs(async (token, page) => {
    const answer = await call(deps, `ListUserImportJobs page ${page}`, (options) =>
      cognito.send(
        new ListUserImportJobsCommand({ UserPoolId: config.userPoolId, MaxResults: PAGE_SIZE, PaginationToken: token }),
        options,
      ),
    );
    return { jobs: answer.UserImportJobs ?? [], nextToken: answer.PaginationToken };
  });

  const { stored, marker } = await readState(deps);
  const firstRun = marker?.FirstRunCompletedAt === undefined;
  let historyBefore: string | undefined;
  if (firstRun) {
    // The first run's cut-off between history and news is stored before any job, so that a retry of a first
    // run cut short keeps it, rather than moving it on and filing a recent completion as history.
    historyBefore = marker?.HistoryBefore ?? new Date(deps.now.getTime() - config.periodMs).toISOString();
    if (marker === undefined) await putIfAbsent(deps, markerItem(deps, { HistoryBefore: historyBefore }));
  }
  const plan = planChanges(jobs, stored, { historyBefore: historyBefore ? new Date(historyBefore) : undefined });
  for (const job of plan.unknownStatus) {
    log.warn('Job has a status the monitor does not know; it is left out of every metric', jobFields(job));
  }
  for (const job of plan.stale) {
    log.warn('Job is listed in an older state than the one stored; it is left alone', jobFields(job));
  }

  const outcomes = await mapWithConcurrency(plan.changes, WRITE_CONCURRENCY, (change) => storeChange(deps, change));
  const storedChanges = plan.changes.filter((_, i) => outcomes[i].status === 'fulfilled' && outcomes[i].value);
  const failedWrites: Error[] = [];
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') {
      failedWrites.push(o.reason);
      log.error('Could not store a job change; the next run will count it', { ...jobFields(plan.changes[i].job), error: o.reason });
    }
  });

  const figures: PublishedFigures = { ...computeFigures(jobs, storedChanges), warnings: countWarnings(jobs, deps.now, config.warnings) };
  for (const change of storedChanges) {
    // A first run logs only what it counts: the rest is the baseline, perhaps a thousand old jobs.
    const baseline = firstRun && change.previous === undefined && !change.completed;
    if (change.next.status !== change.previous?.status && !baseline) {
      log.info(change.completed ? 'Import job completed' : 'Import job status changed', {
        ...jobFields(change.job),
        previousStatus: change.previous?.status ?? null,
        status: change.next.status,
      });
    }
  }
  publishMetrics(config, deps.now, figures);

  if (firstRun && failedWrites.length === 0) {
    // Marked after publishing what was stored: a first run cut short is still a first run, so history is
    // never counted as news, and a failed mark loses no count.
    await conditionalPut(
      deps,
      markerItem(deps, { HistoryBefore: historyBefore, FirstRunCompletedAt: deps.now.toISOString() }),
      'attribute_not_exists(#done)',
      { '#done': 'FirstRunCompletedAt' },
    );
  }

  const summary: RunSummary = {
    userPoolId: config.userPoolId,
    jobs: jobs.length,
    pages,
    firstRun,
    changesStored: storedChanges.length,
    changesStoredElsewhere: plan.changes.length - storedChanges.length - failedWrites.length,
    figures,
  };
  log.info('Run summary', summary);
  if (failedWrites.length === 0) publishHeartbeat(config, deps.now);
  if (failedWrites.length > 0) {
    throw new AggregateError(
      failedWrites,
      `could not store ${failedWrites.length} of ${plan.changes.length} job changes for user pool ${config.userPoolId} ` +
        `(first: ${failedWrites[0].message}); they will be counted by the next run`,
      { cause: failedWrites[0] },
    );
  }
  return summary;
}

function jobFields(job: UserImportJobType): Record<string, unknown> {
  return {
    jobId: job.JobId,
    jobName: job.JobName,
    status: job.Status,
    importedUsers: job.ImportedUsers,
    skippedUsers: job.SkippedUsers,
    failedUsers: job.FailedUsers,
    completionMessage: job.CompletionMessage,
  };
}

/** The item that records a pool's first run: its history cut-off, and when it completed. */
interface PoolMarker {
  readonly HistoryBefore?: string;
  readonly FirstRunCompletedAt?: string;
}

function markerItem(deps: RunDependencies, marker: PoolMarker): Record<string, unknown> {
  return { [TABLE_PARTITION_KEY]: deps.config.userPoolId, [TABLE_SORT_KEY]: POOL_MARKER_SORT_KEY, ...marker };
}

/** How a call names the item it reads or writes: `job import-0000000200`, `pool marker`. */
function itemName(item: Record<string, unknown>): string {
  const sortKey = item[TABLE_SORT_KEY];
  return sortKey === POOL_MARKER_SORT_KEY ? 'pool marker' : `job ${sortKey}`;
}

async function readState(deps: RunDependencies): Promise<{ stored: Map<string, StoredJobState>; marker?: PoolMarker }> {
  const stored = new Map<string, StoredJobState>();
  let marker: PoolMarker | undefined;
  let startKey: Record<string, unknown> | undefined;
  let pageNumber = 0;
  do {
    pageNumber++;
    const page = await call(deps, `Query state page ${pageNumber}`, (options) =>
      deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.config.tableName,
          KeyConditionExpression: '#pk = :pool',
          ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
          ExpressionAttributeValues: { ':pool': deps.config.userPoolId },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
        options,
      ),
    );
    for (const item of page.Items ?? []) {
      const jobId = item[TABLE_SORT_KEY] as string;
      if (jobId === POOL_MARKER_SORT_KEY) {
        marker = item;
      } else if (isJobStatus(item.Status)) {
        stored.set(jobId, {
          status: item.Status,
          importedUsers: item.ImportedUsers,
          skippedUsers: item.SkippedUsers,
          failedUsers: item.FailedUsers,
          version: item.Version,
        });
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { stored, marker };
}

/** Stores one change if nobody stored another since we read; true when this run stored it. */
async function storeChange(deps: RunDependencies, change: JobChange): Promise<boolean> {
  const item = {
    [TABLE_PARTITION_KEY]: deps.config.userPoolId,
    [TABLE_SORT_KEY]: change.job.JobId!,
    Status: change.next.status,
    ImportedUsers: change.next.importedUsers,
    SkippedUsers: change.next.skippedUsers,
    FailedUsers: change.next.failedUsers,
    Version: (change.previous?.version ?? 0) + 1,
    UpdatedAt: deps.now.toISOString(),
  };
  if (change.previous === undefined) return putIfAbsent(deps, item);
  return conditionalPut(deps, item, '#version = :version', { '#version': 'Version' }, { ':version': change.previous.version });
}

function putIfAbsent(deps: RunDependencies, item: Record<string, unknown>): Promise<boolean> {
  return conditionalPut(deps, item, 'attribute_not_exists(#pk)', { '#pk': TABLE_PARTITION_KEY });
}

async function conditionalPut(
  deps: RunDependencies,
  item: Record<string, unknown>,
  condition: string,
  names: Record<string, string>,
  values?: Record<string, unknown>,
): Promise<boolean> {
  // A token of this write alone, by which a write that landed though its answer was lost is known again.
  const stamped = { ...item, WriteId: randomUUID() };
  try {
    await call(deps, `PutItem ${itemName(item)}`, (options) =>
      deps.dynamodb.send(
        new PutCommand({
          TableName: deps.config.tableName,
          Item: stamped,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        options,
      ),
    );
    return true;
  } catch (error) {
    // The SDK retries a write whose answer was lost (a 500, a reset connection): when the first attempt had
    // landed, the retry fails its condition or the run gives up, though the item is ours. Ask the table.
    if (await storedByThisRun(deps, stamped)) return true;
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

async function storedByThisRun(deps: RunDependencies, item: Record<string, unknown>): Promise<boolean> {
  try {
    const { Item } = await call(deps, `GetItem ${itemName(item)}`, (options) =>
      deps.dynamodb.send(
        new GetCommand({
          TableName: deps.config.tableName,
          Key: { [TABLE_PARTITION_KEY]: item[TABLE_PARTITION_KEY], [TABLE_SORT_KEY]: item[TABLE_SORT_KEY] },
          ConsistentRead: true,
        }),
        options,
      ),
    );
    return Item?.WriteId === item.WriteId;
  } catch {
    return false; // The write's own error says more than this one.
  }
}

async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Writes the run's figures as embedded metric format: one record per status (Jobs, and JobsCompleted
 * for the completed statuses), one for the user counts. 15 metrics per pool, whatever the number of jobs.
 */
export function publishMetrics(config: Config, now: Date, figures: PublishedFigures): void {
  const metrics = new Metrics({ namespace: config.namespace });
  // Powertools adds a `service` dimension by default; the contract is UserPoolId (and Status) only.
  metrics.clearDefaultDimensions();
  for (const status of JOB_STATUSES) {
    metrics.setTimestamp(now);
    metrics.addDimensions({ [DIMENSION_USER_POOL_ID]: config.userPoolId, [DIMENSION_STATUS]: status });
    metrics.addMetric(METRIC_JOBS, MetricUnit.Count, figures.jobs[status]);
    if (isCompletedStatus(status)) {
      metrics.addMetric(METRIC_JOBS_COMPLETED, MetricUnit.Count, figures.jobsCompleted[status]);
    }
    metrics.publishStoredMetrics();
  }
  metrics.setTimestamp(now);
  metrics.addDimension(DIMENSION_USER_POOL_ID, config.userPoolId);
  metrics.addMetric(METRIC_IMPORTED_USERS, MetricUnit.Count, figures.newUsers.importedUsers);
  metrics.addMetric(METRIC_SKIPPED_USERS, MetricUnit.Count, figures.newUsers.skippedUsers);
  metrics.addMetric(METRIC_FAILED_USERS, MetricUnit.Count, figures.newUsers.failedUsers);
  metrics.addMetric(METRIC_JOBS_AWAITING_START, MetricUnit.Count, figures.warnings.awaitingStart);
  metrics.addMetric(METRIC_JOBS_STUCK, MetricUnit.Count, figures.warnings.stuck);
  metrics.publishStoredMetrics();
}

/** Says that this run listed, stored and published everything: the last thing a complete run writes. */
function publishHeartbeat(config: Config, now: Date): void {
  const metrics = new Metrics({ namespace: config.namespace });
  metrics.clearDefaultDimensions();
  metrics.setTimestamp(now);
  metrics.addDimension(DIMENSION_USER_POOL_ID, config.userPoolId);
  metrics.addMetric(METRIC_HEARTBEAT, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
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
}

export function createClients(config: Config): Clients {
  return {
    // In the pool's region, which may not be the function's: the call is signed for that region too.
    // Adaptive retries back off and slow down on TooManyRequestsException.
    cognito: new CognitoIdentityProviderClient({
      region: config.userPoolRegion,
      retryMode: 'adaptive',
      maxAttempts: config.maxAttempts,
      requestHandler: TIMEOUTS,
    }),
    // The state table is the function's own, in its region (AWS_REGION).
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: config.maxAttempts, requestHandler: TIMEOUTS })),
  };
}

// Created by the first invocation, once its configuration is read, and reused by every later one:
// the configuration is the execution environment's and does not change.
let clients: Clients | undefined;
const logger = new Logger({ serviceName: 'import-job-monitor' });

/** What a scheduled tick did when the pool was not due: nothing but read when it will be. */
export type SkippedRun = { readonly skipped: true; readonly nextRunAt: string };

export async function handler(event: unknown, context?: { getRemainingTimeInMillis(): number }): Promise<RunSummary | SkippedRun> {
  try {
    const config = readConfig(process.env);
    logger.appendKeys({ userPoolId: config.userPoolId });
    clients ??= createClients(config);
    let deadline: Deadline | undefined;
    if (context) {
      const budgetMs = Math.max(1, context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS);
      deadline = { at: new Date(Date.now() + budgetMs), signal: AbortSignal.timeout(budgetMs) };
    }
    const deps = { ...clients, config, now: new Date(), log: logger, deadline };
    // Only the schedule's ticks wait their turn: the deployment's run, or one started by hand, lists at once.
    const cadence = { activeMs: config.activeMs, idleMs: config.periodMs };
    if (isScheduledEvent(event)) {
      const next = await readNextRunAt(deps);
      if (!isDue(deps.now, next, cadence)) return { skipped: true, nextRunAt: next!.toISOString() };
      // Monitors ticking at the same second share one account's Cognito quota: spread them a little.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_JITTER_MS, config.activeMs / 20)));
    }
    const run = { ...deps, now: new Date() };
    const summary = await runOnce(run);
    await writeNextRunAt(run, nextRunAt(run.now, summary.figures, cadence));
    return summary;
  } catch (error) {
    logger.error('Run failed', { error });
    throw error;
  }
}

const MAX_JITTER_MS = 3_000;

function isScheduledEvent(event: unknown): boolean {
  return (event as { 'detail-type'?: string } | undefined)?.['detail-type'] === 'Scheduled Event';
}

function cadenceKey(config: Config): Record<string, string> {
  return { [TABLE_PARTITION_KEY]: config.userPoolId, [TABLE_SORT_KEY]: CADENCE_SORT_KEY };
}

async function readNextRunAt(deps: RunDependencies): Promise<Date | undefined> {
  const { Item } = await call(deps, 'GetItem next run', (options) =>
    deps.dynamodb.send(new GetCommand({ TableName: deps.config.tableName, Key: cadenceKey(deps.config), ConsistentRead: true }), options),
  );
  return typeof Item?.NextRunAt === 'string' ? new Date(Item.NextRunAt) : undefined;
}

// The run that started last knows best: of two overlapping runs, the earlier one's listing may miss a job the
// later one saw, so it may not overwrite the later one's due time. A run that fails before this leaves the time
// passed, so the next tick runs again rather than waiting out the schedule.
async function writeNextRunAt(deps: RunDependencies, next: Date): Promise<void> {
  try {
    await call(deps, 'PutItem next run', (options) =>
      deps.dynamodb.send(
        new PutCommand({
          TableName: deps.config.tableName,
          Item: { ...cadenceKey(deps.config), NextRunAt: next.toISOString(), RunAt: deps.now.toISOString() },
          ConditionExpression: 'attribute_not_exists(#runAt) OR #runAt <= :runAt',
          ExpressionAttributeNames: { '#runAt': 'RunAt' },
          ExpressionAttributeValues: { ':runAt': deps.now.toISOString() },
        }),
        options,
      ),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}
