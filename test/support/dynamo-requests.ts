/**
 * What a request of the handler to DynamoDB is for, read from its wire body (DynamoDB JSON) as the loopback proxy
 * sees it: which step of a run (store a bucket's changes, take over a leftover write's entries, clear published ones,
 * read an item, query a partition, put a marker or due time, delete an item of 0.1.0's layout) and which item.
 * Matches the expressions of lambda/state-store.ts. Also reads the outbox and job states off items as a scan returns
 * them (the layout of lambda/state-store.ts, and 0.1.0's one item per job).
 */
import { CADENCE_PARTITION, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../lib/contract';
import { JobState } from '../../lambda/changes';
import { decodeEntries, decodeStates, itemOfJob } from '../../lambda/state-store';

export type RequestStep = 'store' | 'takeover' | 'clear' | 'update' | 'read' | 'query' | 'put' | 'delete' | 'other';

export interface DynamoRequest {
  readonly operation: string;
  readonly step: RequestStep;
  /** The item's sort key (`#jobs#07`, `#pool`, a pool's ID for its due time), or the partition queried. */
  readonly item: string;
  /** The user pool the request is for: its partition, or the item of its due time. */
  readonly userPoolId: string;
  /** `PutItem:put:#pool`: the same for every attempt at the same request. */
  readonly id: string;
}

export function describeDynamoRequest(operation: string, body: Record<string, any>): DynamoRequest {
  const expression = String(body.UpdateExpression ?? '');
  let step: RequestStep = 'other';
  if (operation === 'UpdateItem') {
    if (expression.startsWith('SET #states')) step = 'store';
    else if (expression.startsWith('SET #owed.#token')) step = 'takeover';
    else if (expression.startsWith('REMOVE')) step = 'clear';
    else step = 'update';
  } else if (operation === 'GetItem') step = 'read';
  else if (operation === 'Query') step = 'query';
  else if (operation === 'PutItem') step = 'put';
  else if (operation === 'DeleteItem') step = 'delete';
  const values = body.ExpressionAttributeValues ?? {};
  const key = body.Key ?? body.Item ?? {};
  const queried = operation === 'Query' ? String((Object.values(values)[0] as { S?: string } | undefined)?.S ?? '') : undefined;
  const partition: string = queried ?? key[TABLE_PARTITION_KEY]?.S ?? '';
  const item: string = queried ?? key[TABLE_SORT_KEY]?.S ?? '';
  const userPoolId = partition === CADENCE_PARTITION ? item : partition;
  return { operation, step, item, userPoolId, id: `${operation}:${step}:${item}` };
}

/** A landed write's outbox token, when it put one: a stored change's entry, or a takeover's new token. */
export function outboxTokenOf(request: DynamoRequest, body: Record<string, any>): string | undefined {
  const values = body.ExpressionAttributeValues ?? {};
  if (request.step === 'store') return values[':owed']?.M?.Token?.S;
  if (request.step === 'takeover') return values[':token']?.S;
  return undefined;
}

/** The event keys a bucket write announces: those of its outbox entries that carry an event. */
export function announcedEventKeys(request: DynamoRequest, body: Record<string, any>): string[] {
  if (request.step !== 'store') return [];
  const entries = body.ExpressionAttributeValues?.[':owed']?.M?.Entries?.B;
  if (entries === undefined) return [];
  return decodeEntries(Buffer.from(entries, 'base64')).flatMap((entry) => (entry.Event ? [String(entry.Event.eventKey)] : []));
}

/** A job's outbox entry as an item holds it: its counts in the stored shape (`Completed`, `ImportedUsers`, ...). */
export interface StoredOwed {
  readonly jobId: string;
  /** The sort key of the item, and the attribute, that hold it. */
  readonly item: string;
  readonly attribute: string;
  readonly token: string;
  readonly leaseUntil: string;
  readonly counts?: Record<string, any>;
  readonly event?: Record<string, any>;
}

/** The outbox entries an item holds, one per job: a bucket's writes' entries, or a 0.1.0 job item's own. */
export function owedOn(item: Record<string, any>): StoredOwed[] {
  const entries: StoredOwed[] = [];
  for (const [attribute, value] of Object.entries(item)) {
    if (!attribute.startsWith('Owed_')) continue;
    const held = { item: item[TABLE_SORT_KEY], attribute, token: value.Token, leaseUntil: value.LeaseUntil };
    if (value.Entries === undefined) {
      entries.push({ ...held, jobId: item[TABLE_SORT_KEY], counts: value.Counts, event: value.Event && JSON.parse(value.Event) });
    } else {
      for (const entry of decodeEntries(value.Entries)) entries.push({ ...held, jobId: entry.JobId, counts: entry.Counts, event: entry.Event });
    }
  }
  return entries;
}

/** A job's stored state, from its bucket among a scan's items (by `UserPoolId|JobId`, as Loopback.state() gives them). */
export function storedJobState(items: ReadonlyMap<string, Record<string, any>>, userPoolId: string, jobId: string): JobState | undefined {
  const bucket = items.get(`${userPoolId}|${itemOfJob(items.get(`${userPoolId}|#jobs#00`), jobId)}`);
  return bucket && decodeStates(bucket.States).get(jobId);
}
