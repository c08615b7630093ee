import { Duration } from 'aws-cdk-lib';

/**
 * Which user pools a fleet monitor watches when it discovers them: every pool of the stack's account and region
 * (`ListUserPools`, on each run), narrowed by patterns. A pattern is matched against the pool's ID and its name;
 * `*` stands for any run of characters (`tenant-*`, `eu-west-1_*`, `*-staging`), and a pattern without `*` must
 * match the whole ID or name.
 */
export interface UserPoolDiscovery {
  /**
   * Watch only the pools whose ID or name matches one of these patterns (at least one when given).
   * @default - every pool of the account in the stack's region
   */
  readonly include?: string[];

  /**
   * Leave out the pools whose ID or name matches one of these patterns, even when `include` matches them.
   * @default - none left out
   */
  readonly exclude?: string[];
}

/** Options of the fleet's metrics, which are CloudWatch Metrics Insights queries over its pools. */
export interface FleetMetricOptions {
  /**
   * The period of the query.
   * @default - the monitor's schedule
   */
  readonly period?: Duration;

  /**
   * One time series per pool (`GROUP BY UserPoolId`, the 500 largest at most), or one for the whole fleet. Only
   * pools with something to report in the period have a series: a fleet publishes no zeros.
   * @default true
   */
  readonly byPool?: boolean;

  /**
   * The label of the series.
   * @default - each series is labelled with its pool ID (`byPool`, on aws-cdk-lib versions that render an empty label
   *   as none), or with the query
   */
  readonly label?: string;

  /**
   * The color of the series, as a hex code (`#1f77b4`).
   * @default - automatic
   */
  readonly color?: string;
}
