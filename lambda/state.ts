/** The state table: per-job items written with conditional writes, the pool's first-run marker, and when the pool is next due. */
import { randomUUID } from 'crypto';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  POOL_MARKER_SORT_KEY,
  CADENCE_SORT_KEY,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  isJobStatus,
} from '../lib/contract';
import {
  JobChange,
  StoredJobState,
} from './logic';
import { Config } from './config';
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
function itemName(item: Record<string, unknown>): string {
  const sortKey = item[TABLE_SORT_KEY];
  if (sortKey === POOL_MARKER_SORT_KEY) return 'pool marker';
  return sortKey === CADENCE_SORT_KEY ? 'next run' : `job ${sortKey}`;
}

export async function readState(deps: RunDependencies): Promise<{ stored: Map<string, StoredJobState>; marker?: PoolMarker }> {
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
export async function storeChange(deps: RunDependencies, change: JobChange): Promise<boolean> {
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

export function putIfAbsent(deps: RunDependencies, item: Record<string, unknown>): Promise<boolean> {
  return conditionalPut(deps, item, 'attribute_not_exists(#pk)', { '#pk': TABLE_PARTITION_KEY });
}

export async function conditionalPut(
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


function cadenceKey(config: Config): Record<string, string> {
  return { [TABLE_PARTITION_KEY]: config.userPoolId, [TABLE_SORT_KEY]: CADENCE_SORT_KEY };
}

export async function readNextRunAt(deps: RunDependencies): Promise<Date | undefined> {
  const { Item } = await call(deps, 'GetItem next run', (options) =>
    deps.dynamodb.send(new GetCommand({ TableName: deps.config.tableName, Key: cadenceKey(deps.config), ConsistentRead: true }), options),
  );
  return typeof Item?.NextRunAt === 'string' ? new Date(Item.NextRunAt) : undefined;
}

// The run that started last knows best: of two overlapping runs, the earlier one's listing may miss a job the
// later one saw, so it may not overwrite the later one's due time. A run that fails before this leaves the time
// passed, so the next tick runs again rather than waiting out the schedule.
export async function writeNextRunAt(deps: RunDependencies, next: Date): Promise<void> {
  const runAt = deps.now.toISOString();
  await conditionalPut(
    deps,
    { ...cadenceKey(deps.config), NextRunAt: next.toISOString(), RunAt: runAt },
    'attribute_not_exists(#runAt) OR #runAt <= :runAt',
    { '#runAt': 'RunAt' },
    { ':runAt': runAt },
  );
}
