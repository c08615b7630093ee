/**
 * Backs a mocked DynamoDBDocumentClient with a table in memory that honours the two conditions the handler
 * writes with. The end-to-end tests run the same handler against dynalite, a real DynamoDB emulator.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommandInput, PutCommandInput, QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export class MemoryTable {
  public readonly items = new Map<string, Record<string, any>>();
  public puts = 0;

  public query(input: QueryCommandInput) {
    const pool = input.ExpressionAttributeValues![':pool'];
    return { Items: [...this.items.values()].filter((i) => i.UserPoolId === pool).map((i) => ({ ...i })) };
  }

  public put(input: PutCommandInput) {
    this.puts++;
    const item = input.Item!;
    const key = `${item.UserPoolId}|${item.JobId}`;
    const existing = this.items.get(key);
    const conditions: Record<string, () => boolean> = {
      'attribute_not_exists(#pk)': () => existing === undefined,
      'attribute_not_exists(#done)': () => existing?.FirstRunCompletedAt === undefined,
      '#version = :version': () => existing?.Version === input.ExpressionAttributeValues![':version'],
      'attribute_not_exists(#runAt) OR #runAt <= :runAt': () =>
        existing?.RunAt === undefined || existing.RunAt <= input.ExpressionAttributeValues![':runAt'],
    };
    // No condition: an unconditional put. An unknown one fails, so that a test never passes on a condition not modelled.
    const ok = input.ConditionExpression === undefined || (conditions[input.ConditionExpression]?.() ?? false);
    if (!ok) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    this.items.set(key, { ...item });
    return {};
  }

  public get(input: GetCommandInput) {
    const item = this.items.get(`${input.Key!.UserPoolId}|${input.Key!.JobId}`);
    return { Item: item ? { ...item } : undefined };
  }

  public job(poolId: string, jobId: string): Record<string, any> | undefined {
    return this.items.get(`${poolId}|${jobId}`);
  }
}
