/** CloudWatch Metrics Insights queries over the monitor's namespace: a fleet's metrics and alarms. */
import { DIMENSION_STATUS, DIMENSION_USER_POOL_ID } from '../contract';

/** One Metrics Insights query: which metric, with which statistic, over which dimensions. */
export interface InsightsQuery {
  readonly fn: 'SUM' | 'MAX';
  readonly metricName: string;
  /** The metric's dimensions besides `UserPoolId`: `Status`, or none. */
  readonly withStatus: boolean;
  /** Statuses to keep (`Status = ...`), or to leave out (`Status != ...`). */
  readonly status?: string;
  readonly excludeStatuses?: readonly string[];
  /** `GROUP BY UserPoolId` (and `Status`, with `byStatus`): a series, and an alarm contributor, per pool. */
  readonly byPool: boolean;
  readonly byStatus?: boolean;
  /** A single pool's monitor restricts the query to its pool. */
  readonly userPoolId?: string;
}

/**
 * The query text, e.g. `SELECT SUM(JobsCompleted) FROM SCHEMA("Cognito/UserImportJobs", Status, UserPoolId)
 * WHERE Status = 'Failed' GROUP BY UserPoolId ORDER BY SUM() DESC`. `SCHEMA` matches the metrics with exactly
 * these dimensions; `ORDER BY` makes the 500 series a query returns at most the largest ones.
 */
export function insightsQuery(namespace: string, q: InsightsQuery): string {
  const dims = q.withStatus ? `${DIMENSION_STATUS}, ${DIMENSION_USER_POOL_ID}` : DIMENSION_USER_POOL_ID;
  const where = [
    ...(q.userPoolId !== undefined ? [`${DIMENSION_USER_POOL_ID} = '${q.userPoolId}'`] : []),
    ...(q.status !== undefined ? [`${DIMENSION_STATUS} = '${q.status}'`] : []),
    ...(q.excludeStatuses ?? []).map((s) => `${DIMENSION_STATUS} != '${s}'`),
  ];
  const groups = [DIMENSION_USER_POOL_ID, ...(q.byStatus ? [DIMENSION_STATUS] : [])];
  return [
    `SELECT ${q.fn}(${q.metricName}) FROM SCHEMA("${namespace}", ${dims})`,
    ...(where.length > 0 ? [`WHERE ${where.join(' AND ')}`] : []),
    ...(q.byPool ? [`GROUP BY ${groups.join(', ')} ORDER BY ${q.fn}() DESC`] : []),
  ].join(' ');
}
