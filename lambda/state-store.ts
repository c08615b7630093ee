/**
 * The state table, behind two stores that speak the run's words: a pool's (its jobs' items, written with
 * conditional writes, each carrying its outbox; its first-run marker; when it is next due) and the monitor's (when
 * each of its pools is next due). Every key, attribute name and DynamoDB expression of the table is written here.
 */
import { randomUUID } from 'crypto';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { CADENCE_PARTITION, POOL_MARKER_SORT_KEY, TABLE_PARTITION_KEY, TABLE_SORT_KEY, isJobStatus } from '../lib/contract';
import { Calls, PoolSubject, SendOptions } from './calls';
import { JobChange, StoredJobState } from './changes';
import { OutboxEntry, Owed } from './outbox';

/** The table, and the client that reaches it. */
export interface StateTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** What records a pool's first run: its history cut-off, and when it completed. */
export interface PoolMarker {
  readonly historyBefore?: string;
  readonly firstRunCompletedAt?: string;
}

export interface PoolState {
  readonly stored: Map<string, StoredJobState>;
  readonly marker?: PoolMarker;
  /** Every entry of the outbox, whoever holds it. */
  readonly outbox: OutboxEntry[];
}

/** A stored change, and its outbox entry when it owes anything; or nothing, when another run stored first. */
export type StoreResult = { readonly stored: false } | { readonly stored: true; readonly entry?: OutboxEntry };

type Item = Record<string, any>;
type Key = Record<string, string>;

// An outbox entry is the item attribute `Owed_<version>`, one for each stored change of the job.
const OWED_PREFIX = 'Owed_';

/** One pool's items, read and written with the calls of that pool's run. */
export class PoolStateStore {
  private readonly userPoolId: string;

  constructor(
    private readonly table: StateTable,
    private readonly calls: Calls<PoolSubject>,
  ) {
    this.userPoolId = calls.subject.userPoolId;
  }

  /** Every item of the pool, read consistently: its jobs' stored states, their outbox, and its first-run marker. */
  public async readState(): Promise<PoolState> {
    const stored = new Map<string, StoredJobState>();
    const outbox: OutboxEntry[] = [];
    let marker: PoolMarker | undefined;
    for await (const page of queryPartition(this.table, this.calls, 'Query state', { ':pool': this.userPoolId })) {
      for (const item of page) {
        const jobId = item[TABLE_SORT_KEY] as string;
        if (jobId === POOL_MARKER_SORT_KEY) {
          marker = { historyBefore: item.HistoryBefore, firstRunCompletedAt: item.FirstRunCompletedAt };
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
    }
    return { stored, marker, outbox };
  }

  /**
   * Stores one change if nobody stored another since we read, and in the same write what it owes (the outbox
   * entry), held by this run until `leaseUntil`. An update, not a put: the item's other outbox entries are left
   * as they are, whoever is publishing them.
   */
  public async storeChange(change: JobChange, owed: Owed | undefined, hold: { readonly leaseUntil: string; readonly at: Date }): Promise<StoreResult> {
    const version = (change.previous?.version ?? 0) + 1;
    const writeId = randomUUID();
    const entry: OutboxEntry | undefined = owed && {
      jobId: change.job.JobId!,
      attribute: `${OWED_PREFIX}${version}`,
      token: writeId,
      leaseUntil: hold.leaseUntil,
      at: hold.at.toISOString(),
      ...owed,
    };
    const values: Record<string, unknown> = {
      ':status': change.next.status,
      ':imported': change.next.importedUsers,
      ':skipped': change.next.skippedUsers,
      ':failed': change.next.failedUsers,
      ':version': version,
      ':at': hold.at.toISOString(),
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
    const stored = await this.conditionalUpdate(entry?.jobId ?? change.job.JobId!, update, condition, names, values, (item) => item.WriteId === writeId);
    return stored ? { stored, entry } : { stored };
  }

  /**
   * Takes over an entry whose holder's lease has ended (it was killed, or failed before clearing it): a new token
   * and lease, so that of two runs that find it, one publishes it.
   */
  public async takeOver(entry: OutboxEntry, leaseUntil: string): Promise<OutboxEntry | undefined> {
    const token = randomUUID();
    const claimed = await this.conditionalUpdate(
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
  public async clear(entry: OutboxEntry, eventOwed: boolean): Promise<void> {
    const path = eventOwed ? '#owed.#counts' : '#owed';
    try {
      // Made again and again until the deadline: a clear that gives up makes the next run publish the entry twice.
      await this.calls.persist(`UpdateItem job ${entry.jobId}`, (options) =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: this.jobKey(entry.jobId),
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

  /**
   * Records that a first run started, with its cut-off between history and news, unless a first run cut short
   * recorded one already: that one is kept.
   */
  public markFirstRunStarted(historyBefore: string): Promise<boolean> {
    return this.conditionalPut(this.markerItem({ HistoryBefore: historyBefore }), 'attribute_not_exists(#pk)', { '#pk': TABLE_PARTITION_KEY });
  }

  /** Records that the first run completed, unless another run did. */
  public markFirstRunCompleted(historyBefore: string | undefined, at: Date): Promise<boolean> {
    return this.conditionalPut(
      this.markerItem({ HistoryBefore: historyBefore, FirstRunCompletedAt: at.toISOString() }),
      'attribute_not_exists(#done)',
      { '#done': 'FirstRunCompletedAt' },
    );
  }

  /** When the pool is next due, as the last run wrote it. */
  public async readNextRunAt(): Promise<Date | undefined> {
    const item = await this.readCadence();
    return typeof item?.NextRunAt === 'string' ? new Date(item.NextRunAt) : undefined;
  }

  private async readCadence(): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.calls.send('GetItem next run', (options) =>
      this.table.client.send(new GetCommand({ TableName: this.table.tableName, Key: this.cadenceKey(), ConsistentRead: true }), options),
    );
    return Item;
  }

  /**
   * Writes when the pool is next due, unless a run that started after `runAt` wrote it. The run that started last
   * knows best: of two overlapping runs, the earlier one's listing may miss a job the later one saw, so it may not
   * overwrite the later one's due time. A run that fails before this leaves the time passed, so the next tick runs
   * again rather than waiting out the schedule. `failedRuns` counts a fleet's failed runs of the pool in a row; a run
   * that works writes none.
   */
  public async writeNextRunAt(next: Date, runAt: Date, failedRuns?: number): Promise<void> {
    const at = runAt.toISOString();
    await this.conditionalPut(
      { ...this.cadenceKey(), NextRunAt: next.toISOString(), RunAt: at, ...(failedRuns && { FailedRuns: failedRuns }) },
      'attribute_not_exists(#runAt) OR #runAt <= :runAt',
      { '#runAt': 'RunAt' },
      { ':runAt': at },
    );
  }

  /** Forgets when a pool that left a fleet is due, once it owes nothing: its jobs' items stay, its baseline too. */
  public async forgetCadence(): Promise<void> {
    await this.calls.send('DeleteItem next run', (options) =>
      this.table.client.send(new DeleteCommand({ TableName: this.table.tableName, Key: this.cadenceKey() }), options),
    );
  }

  private jobKey(sortKey: string): Key {
    return { [TABLE_PARTITION_KEY]: this.userPoolId, [TABLE_SORT_KEY]: sortKey };
  }

  private cadenceKey(): Key {
    return { [TABLE_PARTITION_KEY]: CADENCE_PARTITION, [TABLE_SORT_KEY]: this.userPoolId };
  }

  private markerItem(marker: { HistoryBefore?: string; FirstRunCompletedAt?: string }): Item {
    return { ...this.jobKey(POOL_MARKER_SORT_KEY), ...marker };
  }

  private conditionalPut(item: Item, condition: string, names: Record<string, string>, values?: Record<string, unknown>): Promise<boolean> {
    // A token of this write alone, by which a write that landed though its answer was lost is known again.
    const stamped = { ...item, WriteId: randomUUID() };
    return this.conditionalWrite(
      { [TABLE_PARTITION_KEY]: item[TABLE_PARTITION_KEY], [TABLE_SORT_KEY]: item[TABLE_SORT_KEY] },
      'PutItem',
      (options) =>
        this.table.client.send(
          new PutCommand({
            TableName: this.table.tableName,
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

  private conditionalUpdate(
    jobId: string,
    update: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    isOurs: (item: Item) => boolean,
  ): Promise<boolean> {
    return this.conditionalWrite(
      this.jobKey(jobId),
      'UpdateItem',
      (options) =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: this.jobKey(jobId),
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
  private async conditionalWrite(
    key: Key,
    operation: string,
    send: (options: SendOptions) => Promise<unknown>,
    isOurs: (item: Item) => boolean,
  ): Promise<boolean> {
    const name = itemName(key);
    try {
      await this.calls.send(`${operation} ${name}`, send);
      return true;
    } catch (error) {
      let item: Item | undefined;
      try {
        ({ Item: item } = await this.calls.send(`GetItem ${name}`, (options) =>
          this.table.client.send(new GetCommand({ TableName: this.table.tableName, Key: key, ConsistentRead: true }), options),
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
}

/** When a fleet's pool is next due, and how many of its runs in a row have failed (0 after one that worked). */
export interface PoolCadence {
  readonly nextRunAt?: Date;
  readonly failedRuns: number;
}

/** The monitor's items: when each of its pools is next due. */
export class MonitorStateStore {
  constructor(
    private readonly table: StateTable,
    private readonly calls: Calls,
  ) {}

  /** Each pool's cadence, by pool ID: every item of the cadence partition, in one query (paged). */
  public async readAllCadences(): Promise<Map<string, PoolCadence>> {
    const cadences = new Map<string, PoolCadence>();
    for await (const page of queryPartition(this.table, this.calls, 'Query next runs', { ':cadence': CADENCE_PARTITION })) {
      for (const item of page) {
        cadences.set(item[TABLE_SORT_KEY], {
          nextRunAt: typeof item.NextRunAt === 'string' ? new Date(item.NextRunAt) : undefined,
          failedRuns: typeof item.FailedRuns === 'number' ? item.FailedRuns : 0,
        });
      }
    }
    return cadences;
  }
}

/**
 * Every item of one partition, read consistently, a page at a time (`<operation> page <n>` names a page that fails).
 * `partition` is the partition key's value under its placeholder, `{ ':pool': 'eu-west-1_AbC123' }`.
 */
async function* queryPartition(table: StateTable, calls: Calls, operation: string, partition: Record<string, string>): AsyncGenerator<Item[]> {
  const pages = calls.pages(operation, (options) =>
    paginateQuery(
      { client: table.client },
      {
        TableName: table.tableName,
        KeyConditionExpression: `#pk = ${Object.keys(partition)[0]}`,
        ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
        ExpressionAttributeValues: partition,
        ConsistentRead: true,
      },
      options,
    ),
  );
  for await (const page of pages) yield page.Items ?? [];
}

/** How a call names the item it reads or writes: `job import-0000000200`, `pool marker`, `next run`. */
function itemName(key: Key): string {
  if (key[TABLE_PARTITION_KEY] === CADENCE_PARTITION) return 'next run';
  return key[TABLE_SORT_KEY] === POOL_MARKER_SORT_KEY ? 'pool marker' : `job ${key[TABLE_SORT_KEY]}`;
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
      ...(counts.FailedUsersAtEnd !== undefined && { failedUsersAtEnd: counts.FailedUsersAtEnd }),
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
        ...(counts.failedUsersAtEnd !== undefined && { FailedUsersAtEnd: counts.failedUsersAtEnd }),
      },
    }),
    // As JSON: exactly the detail that is sent, absent fields and all.
    ...(event && { Event: JSON.stringify(event) }),
  };
}
