/**
 * Makes the monitor's metrics: a metric of its own dimensions (a pool's, or a fleet's `Monitor`), a Metrics Insights
 * query over its pools, and what an alarm watches, one or the other depending on the pools.
 */
import { Duration, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DIMENSION_STATUS } from '../contract';
import { FleetMetricOptions } from '../fleet-options';
import { PoolQuery } from './alarm-specs';
import { InsightsQuery, insightsQuery } from './insights';
import { MonitoredPools } from './pools';

export class MetricFactory {
  constructor(
    private readonly scope: Construct,
    private readonly namespace: string,
    /** The default period: the monitor's schedule. */
    private readonly period: Duration,
    private readonly pools: MonitoredPools,
  ) {}

  /** A metric with the monitor's own dimensions, and these. */
  public metric(
    metricName: string,
    dimensions: Record<string, string>,
    statistic: string,
    props?: cloudwatch.MetricOptions,
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { ...this.pools.ownDimensions, ...dimensions },
      statistic,
      period: this.period,
      ...props,
    }).attachTo(this.scope);
  }

  /**
   * A Metrics Insights query over the pools (a single pool's monitor restricts it to its pool). A graphed query by
   * pool gets an empty label, which lets a graph name each series by its pool; without one, aws-cdk-lib labels it with
   * the query.
   */
  public insights(query: InsightsQuery, options?: FleetMetricOptions, graphed = true): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: insightsQuery(this.namespace, { ...query, userPoolId: this.pools.userPoolId }),
      period: options?.period ?? this.period,
      label: options?.label ?? (graphed && query.byPool ? '' : undefined),
      color: options?.color,
      usingMetrics: {},
    });
  }

  /** What an alarm watches: the pool's own metric; for a fleet, a query with a contributor per pool. */
  public perPool(query: PoolQuery, period: Duration): cloudwatch.IMetric {
    if (this.pools.fleet) {
      return this.insights({ ...query, withStatus: query.status !== undefined, byPool: true }, { period }, false);
    }
    const statistic = query.fn === 'SUM' ? cloudwatch.Stats.SUM : cloudwatch.Stats.MAXIMUM;
    return this.metric(query.metricName, query.status !== undefined ? { [DIMENSION_STATUS]: query.status } : {}, statistic, { period });
  }
}
