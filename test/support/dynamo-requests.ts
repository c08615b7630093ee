/**
 * What a request of the handler to DynamoDB is for, read from its wire body (DynamoDB JSON) as the loopback proxy
 * sees it: which step of a run (store a change, take over a leftover entry, clear a published one, read an item,
 * query a partition, put a marker or due time) and which item. Matches the expressions of lambda/state-store.ts.
 */
import { CADENCE_PARTITION, TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../../lib/contract';

export type RequestStep = 'store' | 'takeover' | 'clear' | 'update' | 'read' | 'query' | 'put' | 'other';

export interface DynamoRequest {
  readonly operation: string;
  readonly step: RequestStep;
  /** The item's sort key (`import-0000000003`, `#pool`, a pool's ID for its due time), or the partition queried. */
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
    if (expression.startsWith('SET #status')) step = 'store';
    else if (expression.startsWith('SET #owed.#token')) step = 'takeover';
    else if (expression.startsWith('REMOVE')) step = 'clear';
    else step = 'update';
  } else if (operation === 'GetItem') step = 'read';
  else if (operation === 'Query') step = 'query';
  else if (operation === 'PutItem') step = 'put';
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

/** The event key a stored change announces, when its outbox entry carries an event. */
export function announcedEventKey(request: DynamoRequest, body: Record<string, any>): string | undefined {
  if (request.step !== 'store') return undefined;
  const event = body.ExpressionAttributeValues?.[':owed']?.M?.Event?.S;
  return event === undefined ? undefined : JSON.parse(event).eventKey;
}
