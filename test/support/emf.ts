/** Reads CloudWatch embedded metric format records the way CloudWatch does: one JSON object per line. */

export interface EmfRecord {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

export function parseEmf(output: string): EmfRecord[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfRecord);
}

export function parseLogs(output: string): Record<string, any>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
    .map((line) => JSON.parse(line));
}

/**
 * The metric datapoints CloudWatch would extract: one per record, metric and dimension set,
 * named by metric name and its dimension values, e.g. `JobsCompleted{UserPoolId=eu-west-1_A,Status=Failed}`.
 */
export function datapoints(records: EmfRecord[]): { key: string; namespace: string; unit: string; value: number }[] {
  const points = [];
  for (const record of records) {
    for (const directive of record._aws.CloudWatchMetrics) {
      for (const metric of directive.Metrics) {
        for (const dimensionSet of directive.Dimensions) {
          const dims = dimensionSet.map((d) => `${d}=${record[d]}`).join(',');
          points.push({
            key: `${metric.Name}{${dims}}`,
            namespace: directive.Namespace,
            unit: metric.Unit,
            value: record[metric.Name] as number,
          });
        }
      }
    }
  }
  return points;
}

/** Sum of the values of one metric (by key, as from `datapoints`), summed over records. */
export function sumOf(records: EmfRecord[], key: string): number {
  return datapoints(records)
    .filter((p) => p.key === key)
    .reduce((sum, p) => sum + p.value, 0);
}

/** The values of the tick's heartbeats among the records (1: it worked, 0: it failed). */
export function heartbeatsOf(records: EmfRecord[]): number[] {
  return records.filter((r) => 'Heartbeat' in r).map((r) => r.Heartbeat as number);
}

/** The records besides the tick's heartbeat: what a run published. */
export function withoutHeartbeat(records: EmfRecord[]): EmfRecord[] {
  return records.filter((r) => !('Heartbeat' in r));
}
