/**
 * Backs a mocked DynamoDBDocumentClient with a table in memory that honours the conditions and updates the handler
 * writes with: `SET` and `REMOVE` of attributes and nested paths, and conditions joined by AND and OR of
 * `attribute_exists`, `attribute_not_exists`, `=` and `<=`. Anything else fails, so that a test never passes on an
 * expression not modelled. The end-to-end tests run the same handler against dynalite, a real DynamoDB emulator.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommandInput, GetCommandInput, PutCommandInput, QueryCommandInput, UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { JOB_STATUSES } from '../../lib/contract';
import { decodeEntries, decodeStates, itemOfJob } from '../../lambda/state-store';

type Item = Record<string, any>;
type Names = Record<string, string> | undefined;
type Values = Record<string, any> | undefined;

export class MemoryTable {
  public readonly items = new Map<string, Item>();
  public puts = 0;
  public updates = 0;
  public deletes = 0;

  public query(input: QueryCommandInput) {
    // The handler queries one partition: `#pk = :value`.
    const [partition] = Object.values(input.ExpressionAttributeValues!);
    return { Items: [...this.items.values()].filter((i) => i.UserPoolId === partition).map((i) => structuredClone(i)) };
  }

  public put(input: PutCommandInput) {
    this.puts++;
    const item = input.Item!;
    const key = `${item.UserPoolId}|${item.JobId}`;
    check(this.items.get(key), input.ConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    this.items.set(key, structuredClone(item));
    return {};
  }

  public update(input: UpdateCommandInput) {
    this.updates++;
    const key = `${input.Key!.UserPoolId}|${input.Key!.JobId}`;
    const existing = this.items.get(key);
    check(existing, input.ConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    const item = structuredClone(existing ?? { ...input.Key });
    const expression = input.UpdateExpression!;
    const clauses = /^(?:SET (.+?))?\s*(?:REMOVE (.+))?$/.exec(expression);
    if (!clauses || (!clauses[1] && !clauses[2])) throw new Error(`MemoryTable cannot model the update ${expression}`);
    for (const assignment of clauses[1]?.split(/,\s*/) ?? []) {
      const [path, value] = assignment.split(/\s*=\s*/);
      const parts = resolve(path, input.ExpressionAttributeNames);
      const parent = parts.slice(0, -1).reduce((at, part) => at?.[part], item);
      if (parent === undefined) throw new Error(`The document path provided in the update expression is invalid: ${path}`);
      parent[parts[parts.length - 1]] = structuredClone(operand(value, input.ExpressionAttributeValues));
    }
    for (const path of clauses[2]?.split(/,\s*/) ?? []) {
      const parts = resolve(path, input.ExpressionAttributeNames);
      const parent = parts.slice(0, -1).reduce((at, part) => at?.[part], item);
      if (parent !== undefined) delete parent[parts[parts.length - 1]];
    }
    this.items.set(key, item);
    return {};
  }

  public delete(input: DeleteCommandInput) {
    this.deletes++;
    const key = `${input.Key!.UserPoolId}|${input.Key!.JobId}`;
    check(this.items.get(key), input.ConditionExpression, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
    this.items.delete(key);
    return {};
  }

  public get(input: GetCommandInput) {
    const item = this.items.get(`${input.Key!.UserPoolId}|${input.Key!.JobId}`);
    return { Item: item ? structuredClone(item) : undefined };
  }

  /** An item by its sort key, as stored: the pool's marker (`#pool`), a bucket (`#jobs#07`), a job's item of 0.1.0. */
  public item(poolId: string, sortKey: string): Item | undefined {
    return this.items.get(`${poolId}|${sortKey}`);
  }

  /** The item that holds a job (the pool's one item, or the job's bucket), as stored (a test may change it in place). */
  public bucket(poolId: string, jobId: string): Item | undefined {
    return this.item(poolId, itemOfJob(this.item(poolId, '#jobs#00'), jobId));
  }

  /**
   * A job's stored state, from its bucket, with the bucket's `Version` and `WriteId`; or, for a key that is no job's
   * (`#pool`) or a job stored in 0.1.0's layout only, the item itself.
   */
  public job(poolId: string, jobId: string): Item | undefined {
    const bucket = this.bucket(poolId, jobId);
    const state = bucket && decodeStates(bucket.States).get(jobId);
    if (!state) return this.item(poolId, jobId);
    return {
      Status: state.status,
      ImportedUsers: state.importedUsers,
      SkippedUsers: state.skippedUsers,
      FailedUsers: state.failedUsers,
      Version: bucket.Version,
      WriteId: bucket.WriteId,
    };
  }

  /**
   * The outbox entries on the pool's items, one per job: each write's attribute `Owed_<n>` on a bucket, its entries
   * decoded (their event as the JSON string 0.1.0 stored), and the `Owed_<n>` of job items of 0.1.0's layout.
   */
  public owed(poolId: string): { jobId: string; attribute: string; entry: Item }[] {
    return [...this.items.values()]
      .filter((item) => item.UserPoolId === poolId)
      .flatMap((item) =>
        Object.entries(item)
          .filter(([attribute]) => attribute.startsWith('Owed_'))
          .flatMap(([attribute, owed]) => {
            if (owed.Entries === undefined) return [{ jobId: item.JobId, attribute, entry: owed }];
            const { Entries, ...held } = owed;
            return decodeEntries(Entries).map(({ JobId, Counts, Event }) => ({
              jobId: JobId,
              attribute,
              entry: { ...held, ...(Counts && { Counts }), ...(Event && { Event: JSON.stringify(Event) }) },
            }));
          }),
      );
  }

  /** Seeds a job's item in 0.1.0's layout (one item per job), as that release stored it. */
  public putLegacyJob(poolId: string, jobId: string, status: (typeof JOB_STATUSES)[number], version: number, extra: Item = {}): void {
    this.items.set(`${poolId}|${jobId}`, {
      UserPoolId: poolId,
      JobId: jobId,
      Status: status,
      ImportedUsers: 0,
      SkippedUsers: 0,
      FailedUsers: 0,
      Version: version,
      WriteId: `legacy-${version}`,
      ...extra,
    });
  }
}

function resolve(path: string, names: Names): string[] {
  return path.trim().split('.').map((part) => (part.startsWith('#') ? names![part] ?? fail(`no name ${part}`) : part));
}

function operand(token: string, values: Values): any {
  const name = token.trim();
  if (!name.startsWith(':') || !(name in (values ?? {}))) fail(`no value ${name}`);
  return values![name];
}

function fail(message: string): never {
  throw new Error(`MemoryTable: ${message}`);
}

function check(item: Item | undefined, condition: string | undefined, names: Names, values: Values): void {
  if (condition === undefined) return;
  const read = (path: string) => resolve(path, names).reduce((at, part) => at?.[part], item);
  const holds = (term: string): boolean => {
    let match = /^attribute_(not_)?exists\((.+)\)$/.exec(term.trim());
    if (match) return (read(match[2]) === undefined) === (match[1] !== undefined);
    match = /^(.+?)\s*(=|<=|<)\s*(:?[#\w]+)$/.exec(term.trim());
    if (!match) fail(`cannot model the condition ${term}`);
    // The right side: a value (`:version`), or another attribute (`#version = SplitFrom`).
    const [left, right] = [read(match[1]), match[3].startsWith(':') ? operand(match[3], values) : read(match[3])];
    if (match[2] === '=') return left === right;
    return left !== undefined && (match[2] === '<' ? left < right : left <= right);
  };
  const ok = condition.split(' OR ').some((either) => either.replace(/^\((.*)\)$/, '$1').split(' AND ').every(holds));
  if (!ok) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}
