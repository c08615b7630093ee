/**
 * The state table, behind two stores that speak the run's words: a pool's (its jobs' states in a few bucket items,
 * each written with a conditional write that also carries what its changes owe, its outbox; its first-run marker;
 * when it is next due) and the monitor's (when each of its pools is next due). Every key, attribute name, encoding
 * and DynamoDB expression of the table is written here. docs/how-it-counts.md tells why the layout is so.
 */
import { randomUUID } from 'crypto';
import { gunzipSync, gzipSync } from 'zlib';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import {
  CADENCE_PARTITION,
  JOB_STATUSES,
  POOL_MARKER_SORT_KEY,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  isJobStatus,
} from '../lib/contract';
import { Calls, PoolSubject, SendOptions } from './calls';
import { JobChange, JobState, StoredJobState, laterState, sameState } from './changes';
import { mapWithConcurrency } from './concurrency';
import { OutboxEntry, Owed, OwedCounts } from './outbox';

/** The table, and the client that reaches it. */
export interface StateTable {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** What records a pool's first run: its history cut-off, and when it completed. */
export interface PoolMarker {
  /** The marker's, or, while the first run has not completed, the one it stored with its buckets. */
  readonly historyBefore?: string;
  readonly firstRunCompletedAt?: string;
}

/** A bucket item as read: its version, which its next write is conditioned on, and the job states it holds. */
export interface BucketRead {
  readonly key: string;
  readonly version: number;
  readonly states: ReadonlyMap<string, JobState>;
  /** Bytes of the outbox entries it holds, which a write leaves in place. */
  readonly owedBytes: number;
}

/** A job's item of the layout before buckets (0.1.0): read as stored state until its bucket holds the job. */
export interface LegacyJob {
  readonly state: JobState;
  readonly version: number;
  /** Whether it held outbox entries when read: it is kept until they are paid. */
  readonly owes: boolean;
}

export interface PoolState {
  /** Whether the pool's jobs are all in one item, the first bucket's (`#jobs#00`), rather than spread over 16. */
  readonly single: boolean;
  /** Each job's stored state: its bucket's, or its legacy item's when that one is later. */
  readonly stored: Map<string, StoredJobState>;
  readonly marker?: PoolMarker;
  /** Every entry of the outbox, whoever holds it. */
  readonly outbox: OutboxEntry[];
  readonly buckets: ReadonlyMap<string, BucketRead>;
  readonly legacy: ReadonlyMap<string, LegacyJob>;
  /** The pool's name, as a run that needed it for its events stored it with the jobs (a pool's name cannot change). */
  readonly userPoolName?: string;
}

/** A bucket to write: the changes of its jobs, and whether it also takes in jobs of the old layout. */
export interface BucketWrite {
  readonly key: string;
  readonly changes: JobChange[];
}

/** A bucket written, and the outbox entries of its changes; or nothing, when another run wrote the bucket first. */
export type StoreResult = { readonly stored: false } | { readonly stored: true; readonly entries: OutboxEntry[] };

type Item = Record<string, any>;
type Key = Record<string, string>;

// A pool's job states live in one item, `#jobs#00` (marked `Buckets` 1), while they fit in `singleItemBytes`; then in up
// to 16 bucket items, sort keys `#jobs#00` to `#jobs#15` (job IDs start with `import-`, so no job's item of 0.1.0
// clashes): a job in the one a stable hash of its ID names.
const JOB_BUCKET_SORT_KEY_PREFIX = '#jobs#';
const JOB_BUCKETS = 16;
const HEAD = `${JOB_BUCKET_SORT_KEY_PREFIX}00`;
// A write and a clear are billed by the item's size, a write unit a KB: past 64 KB (some 4,000 jobs), a run that stores
// one change would pay over 128 units in one item, where a bucket's would pay a sixteenth (docs/how-it-counts.md).
const DEFAULT_SINGLE_ITEM_BYTES = 65_536;
// The outbox of a write is the bucket's attribute `Owed_<version>`: its token, lease and time, and its entries.
const OWED_PREFIX = 'Owed_';
// A bucket write larger than this fails, naming the pool: DynamoDB refuses items over 400 KB. At about 8 bytes a job
// compressed (docs/how-it-counts.md), 16 buckets hold some 700,000 jobs; the outbox of a change takes 100 to 200.
const MAX_BUCKET_BYTES = 350_000;
// What a bucket item holds besides its states and outbox: keys, version, token, time.
const BUCKET_OVERHEAD_BYTES = 200;
// Parallel conditional deletes of the old layout's items: a one-time cost of the first run after the upgrade.
const DELETE_CONCURRENCY = 16;
// Parallel writes of a split's buckets: all of them at once.
const SPLIT_CONCURRENCY = JOB_BUCKETS;

/** The bucket of a job: FNV-1a of its ID, modulo the number of buckets, as `#jobs#07`. Stable across releases. */
export function bucketOf(jobId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < jobId.length; i++) {
    hash ^= jobId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${JOB_BUCKET_SORT_KEY_PREFIX}${String(hash % JOB_BUCKETS).padStart(2, '0')}`;
}

/**
 * The sort key of the item a job's state is kept in, given the pool's first bucket's item as stored: that item while
 * it holds every job (marked `Buckets` 1), the job's bucket otherwise.
 */
export function itemOfJob(head: Record<string, unknown> | undefined, jobId: string): string {
  return head?.Buckets === 1 ? HEAD : bucketOf(jobId);
}

/** Whether a bucket item is a split's copy, written by no run since (each write of a bucket removes the mark). */
function isCopy(item: Item): boolean {
  return item.SplitFrom !== undefined && item.Version === item.SplitFrom;
}

/** Whether a sort key is a bucket's. */
export function isBucketKey(sortKey: string): boolean {
  return sortKey.startsWith(JOB_BUCKET_SORT_KEY_PREFIX);
}

/** One pool's items, read and written with the calls of that pool's run. */
export class PoolStateStore {
  private readonly userPoolId: string;
  /** The states of each bucket this run wrote, once its write landed: what retiring the old layout checks against. */
  private readonly landed = new Map<string, ReadonlyMap<string, JobState>>();

  constructor(
    private readonly table: StateTable,
    private readonly calls: Calls<PoolSubject>,
    private readonly singleItemBytes = DEFAULT_SINGLE_ITEM_BYTES,
  ) {
    this.userPoolId = calls.subject.userPoolId;
  }

  /** Every item of the pool, read consistently: its buckets, items of the old layout, the outbox, the marker. */
  public async readState(): Promise<PoolState> {
    const buckets = new Map<string, BucketRead>();
    const legacy = new Map<string, LegacyJob>();
    const outbox: OutboxEntry[] = [];
    let marker: PoolMarker | undefined;
    // The earliest cut-off a first run stored with its buckets (of two overlapping first runs, the one that counts most).
    let bucketsHistoryBefore: string | undefined;
    const bucketItems: Item[] = [];
    let userPoolName: string | undefined;
    for await (const page of queryPartition(this.table, this.calls, 'Query state', { ':pool': this.userPoolId })) {
      for (const item of page) {
        const sortKey = item[TABLE_SORT_KEY] as string;
        if (sortKey === POOL_MARKER_SORT_KEY) {
          marker = { historyBefore: item.HistoryBefore, firstRunCompletedAt: item.FirstRunCompletedAt };
        } else if (isBucketKey(sortKey)) {
          bucketItems.push(item);
        } else if (isJobStatus(item.Status)) {
          let owes = false;
          for (const [attribute, value] of Object.entries(item)) {
            if (!attribute.startsWith(OWED_PREFIX)) continue;
            owes = true;
            outbox.push(fromLegacyOwed(sortKey, attribute, value));
          }
          const state = { status: item.Status, importedUsers: item.ImportedUsers, skippedUsers: item.SkippedUsers, failedUsers: item.FailedUsers };
          legacy.set(sortKey, { state, version: item.Version, owes });
        }
      }
    }
    // One item while the first bucket's says so (or there is none), and every other bucket item is a copy of a split
    // that did not complete (split). A bucket written otherwise (by 0.2.0's code, which knows only buckets: rolled
    // back to, or still running during a deployment) makes the pool's layout buckets, its states taken in below.
    const head = bucketItems.find((item) => item[TABLE_SORT_KEY] === HEAD);
    const single = (head ? head.Buckets === 1 : true) && bucketItems.every((item) => item === head || isCopy(item));
    for (const item of bucketItems) {
      const sortKey = item[TABLE_SORT_KEY] as string;
      // The copies of a split that did not complete hold no entries, and states the one item holds: not the pool's.
      if (single && sortKey !== HEAD) continue;
      let owedBytes = 0;
      for (const [attribute, value] of Object.entries(item)) {
        if (!attribute.startsWith(OWED_PREFIX)) continue;
        owedBytes += BUCKET_OVERHEAD_BYTES + (value.Entries?.length ?? 0);
        for (const owed of decodeEntries(value.Entries)) outbox.push(fromBucketEntry(sortKey, attribute, value, owed));
      }
      if (typeof item.UserPoolName === 'string') userPoolName = item.UserPoolName;
      buckets.set(sortKey, { key: sortKey, version: item.Version, states: decodeStates(item.States), owedBytes });
      if (typeof item.HistoryBefore === 'string' && !(bucketsHistoryBefore! <= item.HistoryBefore)) bucketsHistoryBefore = item.HistoryBefore;
    }
    // A job is in one bucket, but may also be in the first bucket's item, from when that item held every job: the later.
    const stored = new Map<string, StoredJobState>();
    for (const bucket of buckets.values()) {
      for (const [jobId, state] of bucket.states) {
        const other = stored.get(jobId);
        stored.set(jobId, other ? laterState(other, state) : state);
      }
    }
    for (const [jobId, { state }] of legacy) {
      const inBucket = stored.get(jobId);
      stored.set(jobId, inBucket ? laterState(inBucket, state) : state);
    }
    if (marker?.historyBefore === undefined && bucketsHistoryBefore !== undefined) marker = { ...marker, historyBefore: bucketsHistoryBefore };
    return { single, stored, marker, outbox, buckets, legacy, userPoolName };
  }

  /**
   * Whether the pool's jobs, kept in one item, would outgrow it with this run's changes: the item as this run would
   * write it (its states and the outbox entries of what the changes owe, compressed, and the entries it holds) over
   * `singleItemBytes`. Then the run splits them over the 16 buckets (`split`) before storing.
   */
  public outgrows(state: PoolState, changes: readonly JobChange[], owedOf: (change: JobChange) => Owed | undefined): boolean {
    if (!state.single || changes.length + state.legacy.size === 0) return false;
    const head = state.buckets.get(HEAD);
    const states = this.withLegacy(state, HEAD, head?.states);
    const entries: EntryToStore[] = [];
    for (const change of changes) {
      states.set(change.job.JobId!, change.next);
      const owed = owedOf(change);
      if (owed) entries.push({ jobId: change.job.JobId!, ...owed });
    }
    const bytes = encodeStates(states).length + (entries.length > 0 ? encodeEntries(entries).length : 0) + (head?.owedBytes ?? 0);
    return bytes > this.singleItemBytes;
  }

  /**
   * Spreads the jobs of a pool kept in one item over the 16 buckets: first the other 15, copies of the one item's jobs
   * as read (each marked `SplitFrom`, the version it was copied from; a copy replaces only a split's copy of that version
   * or an older one, never a bucket written since: every write of a bucket removes the mark), then the
   * one item itself, keeping its own jobs, marked `Buckets` 16 and conditioned on the version read. Until that write
   * lands, readState ignores the copies: a split cut short or beaten by another run's write counts nothing and loses
   * nothing, and a later run splits again. Stores no change. Returns the pool's state once split, or undefined when
   * another run wrote the item first: then this run stores nothing of the item (its write fails its condition).
   */
  public async split(state: PoolState, at: Date): Promise<PoolState | undefined> {
    const head = state.buckets.get(HEAD);
    const from = head?.version ?? 0;
    const byBucket = new Map<string, Map<string, JobState>>([[HEAD, new Map()]]);
    for (const [jobId, jobState] of this.withLegacy(state, HEAD, head?.states)) {
      const key = bucketOf(jobId);
      if (!byBucket.has(key)) byBucket.set(key, new Map());
      byBucket.get(key)!.set(jobId, jobState);
    }
    const copies = [...byBucket].filter(([key]) => key !== HEAD);
    const written = await mapWithConcurrency(copies, SPLIT_CONCURRENCY, ([key, states]) =>
      this.writeStates(key, states, at, { from }, 'attribute_not_exists(#version) OR (SplitFrom <= :from AND #version = SplitFrom)'),
    );
    const failed = written.find((w) => w.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    if (written.some((w) => w.status === 'fulfilled' && !w.value)) return undefined; // a later split's copies
    const headStates = byBucket.get(HEAD)!;
    const flipped = await this.writeStates(
      HEAD,
      headStates,
      at,
      { version: from + 1, buckets: JOB_BUCKETS },
      head ? '#version = :previous' : 'attribute_not_exists(#version)',
      head ? { ':previous': from } : {},
    );
    if (!flipped) return undefined;
    const buckets = new Map<string, BucketRead>();
    for (const [key, states] of byBucket) {
      const read: BucketRead = { key, version: key === HEAD ? from + 1 : from, states, owedBytes: key === HEAD ? (head?.owedBytes ?? 0) : 0 };
      buckets.set(key, read);
      this.landed.set(key, states);
    }
    return { ...state, single: false, buckets };
  }

  /** The item a job's state is kept in: the one item, or its bucket. */
  private itemOf(state: PoolState, jobId: string): string {
    return state.single ? HEAD : bucketOf(jobId);
  }

  /** A bucket's states with those of the old layout's items of its jobs taken in, each at the later of the two. */
  private withLegacy(state: PoolState, key: string, states: ReadonlyMap<string, JobState> | undefined): Map<string, JobState> {
    const merged = new Map(states);
    for (const [jobId, { state: old }] of state.legacy) {
      if (this.itemOf(state, jobId) !== key) continue;
      const inBucket = merged.get(jobId);
      merged.set(jobId, inBucket ? laterState(inBucket, old) : old);
    }
    return merged;
  }

  /**
   * Writes a split's item: a copy (`from`: the version of the one item it copies, which it takes as its own), or the
   * first bucket's item itself (`version`, `buckets`). `conditionValues` are the condition's own placeholders.
   */
  private writeStates(
    key: string,
    states: ReadonlyMap<string, JobState>,
    at: Date,
    marks: { readonly from?: number; readonly version?: number; readonly buckets?: number },
    condition: string,
    conditionValues: Record<string, unknown> = {},
  ): Promise<boolean> {
    const writeId = randomUUID();
    const values: Record<string, unknown> = { ...conditionValues, ':states': encodeStates(states), ':jobs': states.size, ':at': at.toISOString(), ':writeId': writeId };
    let update = 'SET #states = :states, Jobs = :jobs, UpdatedAt = :at, WriteId = :writeId, #version = ';
    if (marks.from !== undefined) {
      update += ':from, SplitFrom = :from';
      values[':from'] = marks.from;
    } else {
      update += ':version, Buckets = :buckets';
      Object.assign(values, { ':version': marks.version, ':buckets': marks.buckets });
    }
    return this.conditionalUpdate(key, ' (split)', update, condition, { '#states': 'States', '#version': 'Version' }, values, (item) => item.WriteId === writeId);
  }

  /**
   * The buckets a run writes: each that holds a change, and each that holds a job of the old layout not in it yet (or
   * in it at an earlier state), which the write takes in; once written, those items can go (`retireLegacy`).
   */
  public planWrites(state: PoolState, changes: readonly JobChange[]): BucketWrite[] {
    const writes = new Map<string, JobChange[]>();
    for (const change of changes) {
      const key = this.itemOf(state, change.job.JobId!);
      const bucket = writes.get(key);
      if (bucket) bucket.push(change);
      else writes.set(key, [change]);
    }
    for (const [jobId, { state: old }] of state.legacy) {
      const key = this.itemOf(state, jobId);
      const inBucket = state.buckets.get(key)?.states.get(jobId);
      if (!writes.has(key) && (inBucket === undefined || !sameState(laterState(inBucket, old), inBucket))) writes.set(key, []);
    }
    return [...writes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, bucketChanges]) => ({ key, changes: bucketChanges }));
  }

  /**
   * Writes one bucket if nobody wrote it since we read: every job state it holds (its own, those of the old layout it
   * takes in, and the changes), and in the same write what the changes owe (the outbox), held by this run until
   * `leaseUntil`. An update, not a put: the bucket's other outbox entries are left as they are, whoever is publishing
   * them. Of two runs that read the same version, one writes the bucket; the other counts nothing of it, and the next
   * run plans its jobs again.
   */
  public async storeBucket(
    state: PoolState,
    write: BucketWrite,
    owedOf: (change: JobChange) => Owed | undefined,
    hold: { readonly leaseUntil: string; readonly at: Date; readonly historyBefore?: string; readonly userPoolName?: string },
  ): Promise<StoreResult> {
    const read = state.buckets.get(write.key);
    const version = (read?.version ?? 0) + 1;
    const writeId = randomUUID();
    const attribute = `${OWED_PREFIX}${version}`;
    const states = this.withLegacy(state, write.key, read?.states);
    const entries: OutboxEntry[] = [];
    for (const change of write.changes) {
      const jobId = change.job.JobId!;
      states.set(jobId, change.next);
      const owed = owedOf(change);
      if (owed) entries.push({ jobId, item: write.key, attribute, token: writeId, leaseUntil: hold.leaseUntil, at: hold.at.toISOString(), ...owed });
    }
    const encodedStates = encodeStates(states);
    const values: Record<string, unknown> = { ':states': encodedStates, ':jobs': states.size, ':version': version, ':at': hold.at.toISOString(), ':writeId': writeId };
    const names: Record<string, string> = { '#states': 'States', '#version': 'Version' };
    let update = 'SET #states = :states, Jobs = :jobs, #version = :version, UpdatedAt = :at, WriteId = :writeId';
    if (state.single || write.key === HEAD) {
      // The first bucket's item says which layout holds.
      update += ', Buckets = :buckets';
      values[':buckets'] = state.single ? 1 : JOB_BUCKETS;
    }
    const remove = state.single ? '' : ' REMOVE SplitFrom'; // a split's copy no longer: no late copy may replace it
    let bytes = BUCKET_OVERHEAD_BYTES + encodedStates.length + (read?.owedBytes ?? 0);
    if (hold.userPoolName !== undefined && hold.userPoolName !== state.userPoolName) {
      // Read for this run's events: stored, so that later runs need not read it again.
      update += ', UserPoolName = :name';
      values[':name'] = hold.userPoolName;
    }
    if (hold.historyBefore !== undefined) {
      // A first run's cut-off, kept with what it stored: a retry of that first run reads it back (readState).
      update += ', HistoryBefore = :historyBefore';
      values[':historyBefore'] = hold.historyBefore;
    }
    if (entries.length > 0) {
      const owedItem = { Token: writeId, LeaseUntil: hold.leaseUntil, At: hold.at.toISOString(), Entries: encodeEntries(entries) };
      bytes += BUCKET_OVERHEAD_BYTES + owedItem.Entries.length;
      update += ', #owed = :owed';
      names['#owed'] = attribute;
      values[':owed'] = owedItem;
    }
    update += remove;
    if (bytes > MAX_BUCKET_BYTES) {
      throw new Error(
        `${itemName(this.key(write.key))} of user pool ${this.userPoolId} would hold ${states.size} jobs and ${entries.length} outbox entries in ` +
          `${bytes} bytes, over the ${MAX_BUCKET_BYTES} this monitor writes to an item (DynamoDB's limit is 400 KB); nothing of it was stored`,
      );
    }
    let condition = 'attribute_not_exists(#version)';
    if (read !== undefined) {
      condition = '#version = :previous';
      values[':previous'] = read.version;
    }
    const stored = await this.conditionalUpdate(
      write.key,
      jobsNamed(write.changes),
      update,
      condition,
      names,
      values,
      (item) => item.WriteId === writeId || (entries.length > 0 && item[attribute]?.Token === writeId),
    );
    if (!stored) return { stored };
    this.landed.set(write.key, states);
    return { stored, entries };
  }

  /**
   * Takes over a write's entries whose holder's lease has ended (it was killed, or failed before clearing them): a new
   * token and lease, so that of two runs that find them, one publishes them. `entries` share an item and attribute.
   */
  public async takeOver(entries: readonly OutboxEntry[], leaseUntil: string): Promise<OutboxEntry[] | undefined> {
    const [{ item, attribute, token: held }] = entries;
    const token = randomUUID();
    const claimed = await this.conditionalUpdate(
      item,
      '',
      'SET #owed.#token = :token, #owed.#lease = :lease',
      '#owed.#token = :held',
      { '#owed': attribute, '#token': 'Token', '#lease': 'LeaseUntil' },
      { ':token': token, ':lease': leaseUntil, ':held': held },
      (stored) => stored[attribute]?.Token === token,
    );
    return claimed ? entries.map((entry) => ({ ...entry, token, leaseUntil })) : undefined;
  }

  /**
   * Clears what was published of a write's entries this run holds (they share an item and attribute): all of them, or,
   * when some events are still owed (the bus refused them), everything but those events, which stay for the first run
   * after the lease. Failing its condition means the entries are already cleared: an earlier attempt landed though
   * its answer was lost.
   */
  public async clear(entries: readonly OutboxEntry[], eventOwed: (entry: OutboxEntry) => boolean): Promise<void> {
    const [{ item, attribute, token }] = entries;
    const left = entries.filter(eventOwed).map((entry) => ({ ...entry, counts: undefined }));
    const names: Record<string, string> = { '#owed': attribute, '#token': 'Token' };
    const values: Record<string, unknown> = { ':token': token };
    let update = 'REMOVE #owed';
    if (left.length > 0 && isBucketKey(item)) {
      update = 'SET #owed.#entries = :left';
      names['#entries'] = 'Entries';
      values[':left'] = encodeEntries(left);
    } else if (left.length > 0) {
      // An item of the old layout holds one entry: its counts go, its event stays.
      update = 'REMOVE #owed.#counts';
      names['#counts'] = 'Counts';
    }
    try {
      // Made again and again until the deadline: a clear that gives up makes the next run publish the entries twice.
      await this.calls.persist(`UpdateItem ${itemName(this.key(item))}`, (options) =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: this.key(item),
            UpdateExpression: update,
            ConditionExpression: '#owed.#token = :token',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
          options,
        ),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  /**
   * Deletes the items of the old layout that owed nothing when read and whose bucket holds their job at the same
   * state or a later one: a bucket this run wrote, or one read so. Each delete is conditioned on the version read, so
   * that an item a run of the old release wrote since (a change, and what it owes) is kept. Returns the failures.
   */
  public async retireLegacy(state: PoolState): Promise<{ retired: number; failed: { jobId: string; error: Error }[] }> {
    const retiring = [...state.legacy].filter(([jobId, { state: old, owes }]) => {
      if (owes) return false;
      const key = this.itemOf(state, jobId);
      const inBucket = (this.landed.get(key) ?? state.buckets.get(key)?.states)?.get(jobId);
      return inBucket !== undefined && sameState(laterState(inBucket, old), inBucket);
    });
    const deletes = await mapWithConcurrency(retiring, DELETE_CONCURRENCY, ([jobId, { version }]) =>
      this.calls
        .send(`DeleteItem job ${jobId}`, (options) =>
          this.table.client.send(
            new DeleteCommand({
              TableName: this.table.tableName,
              Key: this.key(jobId),
              ConditionExpression: '#version = :version',
              ExpressionAttributeNames: { '#version': 'Version' },
              ExpressionAttributeValues: { ':version': version },
            }),
            options,
          ),
        )
        .catch((error) => {
          // Changed since it was read: a later run looks at it again.
          if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        }),
    );
    const failed = deletes.flatMap((d, i) => (d.status === 'rejected' ? [{ jobId: retiring[i][0], error: d.reason as Error }] : []));
    return { retired: retiring.length - failed.length, failed };
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

  private key(sortKey: string): Key {
    return { [TABLE_PARTITION_KEY]: this.userPoolId, [TABLE_SORT_KEY]: sortKey };
  }

  private cadenceKey(): Key {
    return { [TABLE_PARTITION_KEY]: CADENCE_PARTITION, [TABLE_SORT_KEY]: this.userPoolId };
  }

  private markerItem(marker: { HistoryBefore?: string; FirstRunCompletedAt?: string }): Item {
    return { ...this.key(POOL_MARKER_SORT_KEY), ...marker };
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
    sortKey: string,
    detail: string,
    update: string,
    condition: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
    isOurs: (item: Item) => boolean,
  ): Promise<boolean> {
    return this.conditionalWrite(
      this.key(sortKey),
      'UpdateItem',
      (options) =>
        this.table.client.send(
          new UpdateCommand({
            TableName: this.table.tableName,
            Key: this.key(sortKey),
            UpdateExpression: update,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
          options,
        ),
      isOurs,
      detail,
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
    detail = '',
  ): Promise<boolean> {
    const name = itemName(key) + detail;
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

/** How a call names the item it reads or writes: `bucket #jobs#07`, `job import-0000000200`, `pool marker`, `next run`. */
function itemName(key: Key): string {
  if (key[TABLE_PARTITION_KEY] === CADENCE_PARTITION) return 'next run';
  if (key[TABLE_SORT_KEY] === POOL_MARKER_SORT_KEY) return 'pool marker';
  return isBucketKey(key[TABLE_SORT_KEY]) ? `bucket ${key[TABLE_SORT_KEY]}` : `job ${key[TABLE_SORT_KEY]}`;
}

/** The jobs a bucket write stores changes of, for its name in errors: ` (jobs import-1, import-2 and 4 more)`. */
function jobsNamed(changes: readonly JobChange[]): string {
  if (changes.length === 0) return '';
  const named = changes.slice(0, 3).map((change) => change.job.JobId).join(', ');
  return ` (jobs ${named}${changes.length > 3 ? ` and ${changes.length - 3} more` : ''})`;
}

// A bucket's states: gzip of compact JSON, a row per job: [jobId, index of its status, imported, skipped, failed].
type StateRow = [string, number, number, number, number];

export function encodeStates(states: ReadonlyMap<string, JobState>): Uint8Array {
  const rows: StateRow[] = [];
  for (const [jobId, s] of states) rows.push([jobId, JOB_STATUSES.indexOf(s.status), s.importedUsers, s.skippedUsers, s.failedUsers]);
  return gzipSync(JSON.stringify(rows));
}

export function decodeStates(encoded: Uint8Array | undefined): Map<string, JobState> {
  const states = new Map<string, JobState>();
  if (encoded === undefined) return states;
  for (const [jobId, status, importedUsers, skippedUsers, failedUsers] of JSON.parse(gunzipSync(encoded).toString()) as StateRow[]) {
    states.set(jobId, { status: JOB_STATUSES[status], importedUsers, skippedUsers, failedUsers });
  }
  return states;
}

/** A write's outbox entries as stored in its `Entries`: the job, its counts (the old layout's shape), its event. */
export interface StoredEntry {
  readonly JobId: string;
  readonly Counts?: Record<string, unknown>;
  readonly Event?: Record<string, unknown>;
}

/** What of an outbox entry its write stores. */
type EntryToStore = Pick<OutboxEntry, 'jobId' | 'counts' | 'event'>;

function encodeEntries(entries: readonly EntryToStore[]): Uint8Array {
  const stored: StoredEntry[] = entries.map((entry) => ({
    JobId: entry.jobId,
    ...(entry.counts && { Counts: toCountsItem(entry.counts) }),
    // Exactly the detail that is sent, absent fields and all.
    ...(entry.event && { Event: entry.event as unknown as Record<string, unknown> }),
  }));
  return gzipSync(JSON.stringify(stored));
}

export function decodeEntries(encoded: Uint8Array | undefined): StoredEntry[] {
  return encoded === undefined ? [] : JSON.parse(gunzipSync(encoded).toString());
}

function fromBucketEntry(item: string, attribute: string, owed: Record<string, any>, entry: StoredEntry): OutboxEntry {
  return {
    jobId: entry.JobId,
    item,
    attribute,
    token: owed.Token,
    leaseUntil: owed.LeaseUntil,
    at: owed.At,
    counts: entry.Counts && fromCountsItem(entry.Counts),
    event: entry.Event as OutboxEntry['event'],
  };
}

function fromLegacyOwed(jobId: string, attribute: string, value: Record<string, any>): OutboxEntry {
  return {
    jobId,
    item: jobId,
    attribute,
    token: value.Token,
    leaseUntil: value.LeaseUntil,
    at: value.At,
    counts: value.Counts && fromCountsItem(value.Counts),
    event: value.Event === undefined ? undefined : JSON.parse(value.Event),
  };
}

function fromCountsItem(counts: Record<string, any>): OwedCounts {
  return {
    completed: counts.Completed,
    newUsers: { importedUsers: counts.ImportedUsers, skippedUsers: counts.SkippedUsers, failedUsers: counts.FailedUsers },
    ...(counts.FailedUsersAtEnd !== undefined && { failedUsersAtEnd: counts.FailedUsersAtEnd }),
  };
}

function toCountsItem(counts: OwedCounts): Record<string, unknown> {
  return {
    ...(counts.completed && { Completed: counts.completed }),
    ImportedUsers: counts.newUsers.importedUsers,
    SkippedUsers: counts.newUsers.skippedUsers,
    FailedUsers: counts.newUsers.failedUsers,
    ...(counts.failedUsersAtEnd !== undefined && { FailedUsersAtEnd: counts.failedUsersAtEnd }),
  };
}
