/**
 * The benchmark's baseline (scripts/bench.ts, "Against a naive monitor"): a monitor as one might write it in an
 * afternoon. A run lists every job, reads one item per pool (a map of job ID to its last status and user counts),
 * counts transitions and new users against it, prints them as the library's EMF metrics, and puts the item back
 * when anything changed. No condition, no outbox, no events: a run killed between its metrics and its PutItem counts
 * its changes again, two runs at once count them twice, and past about 14,000 jobs the item outgrows DynamoDB's
 * 400 KB. Without USER_POOL_ID, a fleet: the region's pools whose ID or name matches DISCOVER_USER_POOLS' include
 * globs, four at a time, as many as the library's fleet runs at once. Bundled by the benchmark as the handler is.
 */
import { CognitoIdentityProviderClient, ListUserImportJobsCommand, UserImportJobType, paginateListUserPools } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { JOB_STATUSES, isCompletedStatus } from '../lib/contract';

const cognito = new CognitoIdentityProviderClient({});
const dynamodb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const [TableName, namespace] = [process.env.STATE_TABLE_NAME!, process.env.METRIC_NAMESPACE!];
const COUNTS = ['ImportedUsers', 'SkippedUsers', 'FailedUsers'] as const;

async function monitorPool(UserPoolId: string): Promise<void> {
  const jobs: UserImportJobType[] = [];
  let PaginationToken: string | undefined;
  do {
    const page = await cognito.send(new ListUserImportJobsCommand({ UserPoolId, MaxResults: 60, PaginationToken }));
    jobs.push(...(page.UserImportJobs ?? []));
    PaginationToken = page.PaginationToken;
  } while (PaginationToken);
  const Key = { UserPoolId, JobId: '#naive' };
  const item = (await dynamodb.send(new GetCommand({ TableName, Key }))).Item;
  const last: Record<string, string> = item?.jobs ?? {};
  const now: Record<string, string> = {};
  const [gauges, completed, users] = [JOB_STATUSES.map(() => 0), JOB_STATUSES.map(() => 0), COUNTS.map(() => 0)];
  for (const job of jobs) {
    const status = JOB_STATUSES.indexOf(job.Status as (typeof JOB_STATUSES)[number]);
    const counts = COUNTS.map((c) => job[c] ?? 0);
    now[job.JobId!] = [status, ...counts].join(',');
    gauges[status]++;
    // A first run (no item) is the baseline: it counts nothing.
    if (item === undefined || now[job.JobId!] === last[job.JobId!]) continue;
    const [was, ...before] = (last[job.JobId!] ?? '-1,0,0,0').split(',').map(Number);
    if (was !== status && isCompletedStatus(JOB_STATUSES[status])) completed[status]++;
    counts.forEach((n, i) => (users[i] += Math.max(0, n - before[i])));
  }
  const metrics = new Metrics({ namespace });
  metrics.clearDefaultDimensions();
  JOB_STATUSES.forEach((Status, i) => {
    metrics.addMetric('Jobs', MetricUnit.Count, gauges[i]);
    if (isCompletedStatus(Status)) metrics.addMetric('JobsCompleted', MetricUnit.Count, completed[i]);
    metrics.addDimensions({ UserPoolId, Status });
    metrics.publishStoredMetrics();
  });
  COUNTS.forEach((name, i) => metrics.addMetric(name, MetricUnit.Count, users[i]));
  metrics.addDimensions({ UserPoolId });
  metrics.publishStoredMetrics();
  if (item === undefined || Object.keys(now).some((id) => now[id] !== last[id])) await dynamodb.send(new PutCommand({ TableName, Item: { ...Key, jobs: now } }));
}

export async function handler(): Promise<void> {
  if (process.env.USER_POOL_ID) return monitorPool(process.env.USER_POOL_ID);
  const include: RegExp[] = JSON.parse(process.env.DISCOVER_USER_POOLS ?? '{"include":["*"]}').include.map(
    (glob: string) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
  );
  const pools: string[] = [];
  for await (const page of paginateListUserPools({ client: cognito }, { MaxResults: 60 })) {
    for (const pool of page.UserPools ?? []) if (include.some((r) => r.test(pool.Id!) || r.test(pool.Name ?? ''))) pools.push(pool.Id!);
  }
  await Promise.all([1, 2, 3, 4].map(async () => {
    for (let id = pools.shift(); id !== undefined; id = pools.shift()) await monitorPool(id);
  }));
}
