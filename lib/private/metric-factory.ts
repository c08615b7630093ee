/**
 * Makes each metric of the table (metric-specs.ts): a single pool's metric (its own dimensions), a fleet's Metrics
 * Insights query with a series per pool, and what an alarm watches, one or the other depending on the pools. The
 * construct's `metricX` and `metricFleetX` accessors are one call each here.
 */
import { Duration, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DIMENSION_STATUS } from '../contract';
import { FleetMetricOptions } from '../fleet-options';
import { InsightsQuery, insightsQuery } from './insights';
import { METRICS, MetricKey, MetricSpec, PoolQuery } from './metric-specs';
import { MonitoredPools } from './pools';
import { checkStatus } from './validate';

export class MetricFactory {
  constructor(
    private readonly scope: Construct,
    private readonly namespace: string,
    /** The default period: the monitor's schedule. */
    private readonly period: Duration,
    private readonly pools: MonitoredPools,
  ) {}

  /** A single pool's metric (`metric<key>`), restricted to a status if it has one. */
  public poolMetric(key: MetricKey, props?: cloudwatch.MetricOptions, status?: string): cloudwatch.Metric {
    this.pools.requireOnePool(`metric${key}`, `metricFleet${key}`);
    return this.ownMetric(key, props, status);
  }

  /** A metric with the monitor's own dimensions (a pool's, or a fleet's `Monitor`), and the status if given. */
  public ownMetric(key: MetricKey, props?: cloudwatch.MetricOptions, status?: string): cloudwatch.Metric {
    const spec: MetricSpec = METRICS[key];
    if (status !== undefined) checkStatus(`metric${key}`, status, spec.statuses!);
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName: spec.metricName,
      dimensionsMap: { ...this.pools.ownDimensions, ...(status !== undefined ? { [DIMENSION_STATUS]: status } : {}) },
      statistic: spec.fn === 'SUM' ? cloudwatch.Stats.SUM : cloudwatch.Stats.MAXIMUM,
      period: this.period,
      ...props,
    }).attachTo(this.scope);
  }

  /** A fleet's metric (`metricFleet<key>`): a query per pool, or over the fleet without `byPool`. */
  public fleetMetric(key: MetricKey, options?: FleetMetricOptions, status?: string): cloudwatch.MathExpression {
    if (status !== undefined) checkStatus(`metricFleet${key}`, status, (METRICS[key] as MetricSpec).statuses!);
    return this.insights(perPoolQuery(key, status, options?.byPool ?? true), options);
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
    if (!this.pools.fleet) return this.ownMetric(query.metric, { period }, query.status);
    return this.insights(perPoolQuery(query.metric, query.status, true), { period }, false);
  }
}

/** A metric of the table as a Metrics Insights query over the pools, in the schema of its dimensions. */
function perPoolQuery(key: MetricKey, status: string | undefined, byPool: boolean): InsightsQuery {
  const spec: MetricSpec = METRICS[key];
  return { fn: spec.fn, metricName: spec.metricName, withStatus: spec.statuses !== undefined, status, byPool };
}
