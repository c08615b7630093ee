/**
 * The e-mail an SNS subscriber receives when an alarm changes state, in the layout of CloudWatch's alarm
 * notifications, built from a synthesized alarm: docs/alarms.md shows one, and test/alarm-email.test.ts keeps it true.
 */

export interface EmailContext {
  readonly region: string;
  readonly regionName: string;
  readonly account: string;
  /** What each `Ref` of the template stands for once deployed: the log group's name, the topic's ARN. */
  readonly refs: Record<string, string>;
  readonly at: Date;
  readonly reason: string;
}

/** The alarm's value of a template property, with its `Ref`s and `Fn::Join`s resolved from the context. */
function resolve(value: unknown, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref !== undefined) {
    const key = Object.keys(refs).find((prefix) => v.Ref.startsWith(prefix));
    if (key === undefined) throw new Error(`no value for Ref ${v.Ref}`);
    return refs[key];
  }
  if (v['Fn::Join'] !== undefined) return v['Fn::Join'][1].map((part: unknown) => resolve(part, refs)).join(v['Fn::Join'][0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

export function renderAlarmEmail(properties: Record<string, any>, context: EmailContext): { subject: string; body: string } {
  const name = resolve(properties.AlarmName, context.refs);
  const when = context.at.toUTCString();
  const actions = (list: unknown[] | undefined) => `[${(list ?? []).map((a) => resolve(a, context.refs)).join(', ')}]`;
  const metric = properties.MetricName
    ? [
      `- MetricNamespace:            ${properties.Namespace}`,
      `- MetricName:                 ${properties.MetricName}`,
      `- Dimensions:                 ${(properties.Dimensions ?? []).map((d: any) => `[${d.Name} = ${d.Value}]`).join(' ')}`,
      `- Period:                     ${properties.Period} seconds`,
      `- Statistic:                  ${properties.Statistic}`,
    ]
    : [`- Expression:                 ${properties.Metrics.find((m: any) => m.Expression).Expression}`];
  const period = properties.Period ?? properties.Metrics.find((m: any) => m.MetricStat)?.MetricStat.Period ?? properties.Metrics[0].Period;
  const body = [
    `You are receiving this email because your Amazon CloudWatch Alarm "${name}" in the ${context.regionName} region has ` +
      `entered the ALARM state, because "${context.reason}" at "${when}".`,
    '',
    'Alarm Details:',
    `- Name:                       ${name}`,
    `- Description:                ${resolve(properties.AlarmDescription, context.refs)}`,
    '- State Change:               OK -> ALARM',
    `- Reason for State Change:    ${context.reason}`,
    `- Timestamp:                  ${when}`,
    `- AWS Account:                ${context.account}`,
    `- Alarm Arn:                  arn:aws:cloudwatch:${context.region}:${context.account}:alarm:${name}`,
    '',
    'Threshold:',
    `- The alarm is in the ALARM state when the metric is ${properties.ComparisonOperator} ${Number(properties.Threshold).toFixed(1)} ` +
      `for at least ${properties.DatapointsToAlarm ?? properties.EvaluationPeriods} of the last ${properties.EvaluationPeriods} period(s) of ${period} seconds.`,
    '',
    'Monitored Metric:',
    ...metric,
    `- TreatMissingData:           ${properties.TreatMissingData ?? 'missing'}`,
    '',
    'State Change Actions:',
    `- OK: ${actions(properties.OKActions)}`,
    `- ALARM: ${actions(properties.AlarmActions)}`,
    `- INSUFFICIENT_DATA: ${actions(properties.InsufficientDataActions)}`,
  ].join('\n');
  return { subject: `ALARM: "${name}" in ${context.regionName}`, body };
}
