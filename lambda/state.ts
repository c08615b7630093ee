/**
 * The state table: per-job items written with conditional writes, each carrying its outbox (what its stored changes
 * still owe), the pool's first-run marker, and when the pool is next due.
 */
import { randomUUID } from 'crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  POOL_MARKER_SORT_KEY,
  CADENCE_PARTITION,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  isJobStatus,
} from '../lib/contract';
import { JobChange, JobStateChangeDetail, Owed, OwedCounts, StoredJobState } from './logic';
import { RunDependencies, call } from './aws';

/** The item that records a pool's first run: its history cut-off, and when it completed. */
export interface PoolMarker {
  readonly HistoryBefore?: string;
  readonly FirstRunCompletedAt?: string;
}

export function markerItem(deps: RunDependencies, marker: PoolMarker): Record<string, unknown> {
  return { [TABLE_PARTITION_KEY]: deps.config.userPoolId, [TABLE_SORT_KEY]: POOL_MARKER_SORT_KEY, ...marker };
}

/** How a call names the item it reads or writes: `job import-0000000200`, `pool marker`, `next run`. */
function itemName(key: Record<string, string>): string {
  if (key[TABLE_PARTITION_KEY] === CADENCE_PARTITION) return 'next run';
  return key[TABLE_SORT_KEY] === POOL_MARKER_SORT_KEY ? 'pool marker' : `job ${key[TABLE_SORT_KEY]}`;
}

/**
 * An entry of the outbox: what one stored change owes, kept on its job's item, in the write that stored the
 * change, until it is published. Whoever holds its token publishes it; a run killed or failed before it cleared
 * the entry leaves it to the first run after `leaseUntil`, the end of the run that holds it.
 */
export interface OutboxEntry {
  readonly jobId: string;
  /** The item attribute that holds it: `Owed_<version>`, one for each stored change of the job. */
  readonly attribute: string;
  readonly token: string;
  readonly leaseUntil: string;
  /** When the change was stored: the event's time. */
  readonly at: string;
  readonly counts?: OwedCounts;
  readonly event?: JobStateChangeDetail;
}

const OWED_PREFIX = 'Owed_';

export interface State {
  readonly stored: Map<string, StoredJobState>;
  readonly marker?: PoolMarker;
  /** Every entry of the outbox, whoever holds it. */
  readonly outbox: OutboxEntry[];
}

export async function readState(deps: RunDependencies): Promise<State> {
  const stored = new Map<string, StoredJobState>();
  const outbox: OutboxEntry[] = [];
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
        for (const [attribute, value] of Object.entries(item)) {
          if (attribute.startsWith(OWED_PREFIX)) outbox.push(fromOwedItem(jobId, attribute, value));
        }
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { stored, marker, outbox };
}

function fromOwedItem(jobId: string, attribute: string, value: Record<string, any>): OutboxEntry {
  const counts = value.Counts as Record<string, any> | undefined;
  return {
    jobId,
    attribute,
    token: value.Token,
    leaseUntil: value.LeaseUntil,
    at: value.At,
    counts: counts && {
      completed: counts.Completed,
      newUsers: { importedUsers: counts.ImportedUsers, skippedUsers: counts.SkippedUsers, failedUsers: counts.FailedUsers },
    },
    event: value.Event === undefined ? undefined : JSON.parse(value.Event),
  };
}

function toOwedItem(entry: OutboxEntry): Record<string, unknown> {
  const { counts, event } = entry;
  return {
    Token: entry.token,
    LeaseUntil: entry.leaseUntil,
    At: entry.at,
    ...(counts && {
      Counts: {
        ...(counts.completed && { Completed: counts.completed }),
        ImportedUsers: counts.newUsers.importedUsers,
        SkippedUsers: counts.newUsers.skippedUsers,
        FailedUsers: counts.newUsers.failedUsers,
      },
    }),
    // As JSON: exactly the detail that is sent, absent fields and all.
    ...(event && { Event: JSON.stringify(event) }),
  };
}

/** The key of a pool's item: a job's or the marker's. */
function itemKey(deps: RunDependencies, sortKey: string): Record<string, string> {
  return { [TABLE_PARTITION_KEY]: deps.config.userPoolId, [TABLE_SORT_KEY]: sortKey };
}

/** A stored change, and its outbox entry when it owes anything; or nothing, when another run stored first. */
export type StoreResult = { readonly stored: false } | { readonly stored: true; readonly entry?: OutboxEntry };

/**
 * Stores one change if nobody stored another since we read, and in the same write what it owes (the outbox
 * entry), held by this run until `leaseUntil`. An update, not a put: the item's other outbox entries are left
 * as they are, whoever is publishing them.
 */
export async function storeChange(deps: RunDependencies, change: JobChange, owed: Owed | undefined, leaseUntil: string): Promise<StoreResult> {
  const version = (change.previous?.version ?? 0) + 1;
  const writeId = randomUUID();
  const entry: OutboxEntry | undefined = owed && {
    jobId: change.job.JobId!,
    attribute: `${OWED_PREFIX}${version}`,
    token: writeId,
    leaseUntil,
    at: deps.now.toISOString(),
    ...owed,
  };
  const values: Record<string, unknown> = {
    ':status': change.next.status,
    ':imported': change.next.importedUsers,
    ':skipped': change.next.skippedUsers,
    ':failed': change.next.failedUsers,
    ':version': version,
    ':at': deps.now.toISOString(),
    ':writeId': writeId,
  };
  const names: Record<string, string> = { '#status': 'Status', '#version': 'Version' };
  let update =
    'SET #status = :status, ImportedUsers = :imported, SkippedUsers = :skipped, FailedUsers = :failed, ' +
    '#version = :version, UpdatedAt = :at, WriteId = :writeId';
  if (entry) {
    update += ', #owed = :owed';
    names['#owed'] = entry.attribute;
    values[':owed'] = toOwedItem(entry);
  }
  let condition = 'attribute_not_exists(#version)';
  if (change.previous !== undefined) {
    condition = '#version = :previous';
    values[':previous'] = change.previous.version;
  }
  const stored = await conditionalUpdate(deps, entry?.jobId ?? change.job.JobId!, update, condition, names, values, (item) => item.WriteId === writeId);
  return stored ? { stored, entry } : { stored };
}

/**
 * Takes over an entry whose holder's lease has ended (it was killed, or failed before clearing it): a new token
 * and lease, so that of two runs that find it, one publishes it.
 */
export async function claimEntry(deps: RunDependencies, entry: OutboxEntry, leaseUntil: string): Promise<OutboxEntry | undefined> {
  const token = randomUUID();
  const claimed = await conditionalUpdate(
    deps,
    entry.jobId,
    'SET #owed.#token = :token, #owed.#lease = :lease',
    '#owed.#token = :held',
    { '#owed': entry.attribute, '#token': 'Token', '#lease': 'LeaseUntil' },
    { ':token': token, ':lease': leaseUntil, ':held': entry.token },
    (item) => item[entry.attribute]?.Token === token,
  );
  return claimed ? { ...entry, token, leaseUntil } : undefined;
}

/**
 * Clears what was published of an entry this run holds: all of it, or its counts only when its event is still
 * owed (the bus refused it), which stays for the first run after the lease. Failing its condition means the
 * entry is already cleared: an earlier attempt landed though its answer was lost.
 */
export async function clearEntry(deps: RunDependencies, entry: OutboxEntry, eventOwed: boolean): Promise<void> {
  const path = eventOwed ? '#owed.#counts' : '#owed';
  try {
    await call(deps, `UpdateItem job ${entry.jobId}`, (options) =>
      deps.dynamodb.send(
        new UpdateCommand({
          TableName: deps.config.tableName,
          Key: itemKey(deps, entry.jobId),
          UpdateExpression: `REMOVE ${path}`,
          ConditionExpression: '#owed.#token = :token',
          ExpressionAttributeNames: { '#owed': entry.attribute, '#token': 'Token', ...(eventOwed && { '#counts': 'Counts' }) },
          ExpressionAttributeValues: { ':token': entry.token },
        }),
        options,
      ),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

/** Stores the pool's first-run marker unless there is one: the marker of a first run cut short is kept. */
export function putIfAbsent(deps: RunDependencies, item: Record<string, unknown>): Promise<boolean> {
  return conditionalPut(deps, item, 'attribute_not_exists(#pk)', { '#pk': TABLE_PARTITION_KEY });
}

export function conditionalPut(
  deps: RunDependencies,
  item: Record<string, unknown>,
  condition: string,
  names: Record<string, string>,
  values?: Record<string, unknown>,
): Promise<boolean> {
  // A token of this write alone, by which a write that landed though its answer was lost is known again.
  const stamped = { ...item, WriteId: randomUUID() };
  return conditionalWrite(
    deps,
    { [TABLE_PARTITION_KEY]: item[TABLE_PARTITION_KEY] as string, [TABLE_SORT_KEY]: item[TABLE_SORT_KEY] as string },
    'PutItem',
    (options) =>
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
    (stored) => stored.WriteId === stamped.WriteId,
  );
}

function conditionalUpdate(
  deps: RunDependencies,
  jobId: string,
  update: string,
  condition: string,
  names: Record<string, string>,
  values: Record<string, unknown>,
  isOurs: (item: Record<string, any>) => boolean,
): Promise<boolean> {
  return conditionalWrite(
    deps,
    itemKey(deps, jobId),
    'UpdateItem',
    (options) =>
      deps.dynamodb.send(
        new UpdateCommand({
          TableName: deps.config.tableName,
          Key: itemKey(deps, jobId),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
        options,
      ),
    isOurs,
  );
}

/**
 * One conditional write: true when this run's write landed, false when the condition failed on another run's.
 * The SDK retries a write whose answer was lost (a 500, a reset connection): when the first attempt had landed,
 * the retry fails its condition or the run gives up, though the write is ours. So on failure, ask the table; when
 * the table cannot say either, the write's fate is unknown and the write fails: if it did land, what it put in the
 * outbox is published by a later run, once this run's lease has ended.
 */
async function conditionalWrite(
  deps: RunDependencies,
  key: Record<string, string>,
  operation: string,
  send: (options: { abortSignal?: AbortSignal }) => Promise<unknown>,
  isOurs: (item: Record<string, any>) => boolean,
): Promise<boolean> {
  const name = itemName(key);
  try {
    await call(deps, `${operation} ${name}`, send);
    return true;
  } catch (error) {
    let item: Record<string, any> | undefined;
    try {
      ({ Item: item } = await call(deps, `GetItem ${name}`, (options) =>
        deps.dynamodb.send(new GetCommand({ TableName: deps.config.tableName, Key: key, ConsistentRead: true }), options),
      ));
    } catch (readError) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error; // its own error says more
      throw new Error(`${operation} ${name}: could not tell whether it landed, ${(readError as Error).message}`, { cause: readError });
    }
    if (item !== undefined && isOurs(item)) return true;
    if ((error as Error).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}


function cadenceKey(deps: RunDependencies): Record<string, string> {
  return { [TABLE_PARTITION_KEY]: CADENCE_PARTITION, [TABLE_SORT_KEY]: deps.config.userPoolId };
}

export async function readNextRunAt(deps: RunDependencies): Promise<Date | undefined> {
  const { Item } = await call(deps, 'GetItem next run', (options) =>
    deps.dynamodb.send(new GetCommand({ TableName: deps.config.tableName, Key: cadenceKey(deps), ConsistentRead: true }), options),
  );
  return typeof Item?.NextRunAt === 'string' ? new Date(Item.NextRunAt) : undefined;
}

/** When each pool is next due, by pool ID: every item of the cadence partition, in one query (paged). */
export async function readAllNextRunAt(deps: RunDependencies): Promise<Map<string, Date>> {
  const due = new Map<string, Date>();
  let startKey: Record<string, unknown> | undefined;
  let pageNumber = 0;
  do {
    pageNumber++;
    const page = await call(deps, `Query next runs page ${pageNumber}`, (options) =>
      deps.dynamodb.send(
        new QueryCommand({
          TableName: deps.config.tableName,
          KeyConditionExpression: '#pk = :cadence',
          ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
          ExpressionAttributeValues: { ':cadence': CADENCE_PARTITION },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
        options,
      ),
    );
    for (const item of page.Items ?? []) {
      if (typeof item.NextRunAt === 'string') due.set(item[TABLE_SORT_KEY], new Date(item.NextRunAt));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return due;
}

// The run that started last knows best: of two overlapping runs, the earlier one's listing may miss a job the
// later one saw, so it may not overwrite the later one's due time. A run that fails before this leaves the time
// passed, so the next tick runs again rather than waiting out the schedule.
export async function writeNextRunAt(deps: RunDependencies, next: Date): Promise<void> {
  const runAt = deps.now.toISOString();
  await conditionalPut(
    deps,
    { ...cadenceKey(deps), NextRunAt: next.toISOString(), RunAt: runAt },
    'attribute_not_exists(#runAt) OR #runAt <= :runAt',
    { '#runAt': 'RunAt' },
    { ':runAt': runAt },
  );
}
