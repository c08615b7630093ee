/**
 * The e-mail a JobFailed page sends to an SNS subscriber, as docs/alarms.md shows it, built from the real alarm:
 * when the description or the alarm changes, this fails until the doc shows the new one
 * (`UPDATE_DOCS=1 npx jest test/alarm-email.test.ts` writes it).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, aws_cloudwatch_actions as actions, aws_cognito as cognito, aws_sns as sns } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImportJobMonitor } from '../lib';
import { renderAlarmEmail } from './support/alarm-email';

const DOC = path.join(__dirname, '..', 'docs', 'alarms.md');
const START = '<!-- alarm-email:JobFailed -->';
const END = '<!-- /alarm-email -->';

function jobFailedEmail(): string {
  const stack = new Stack(new App(), 'Identity', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pager = new sns.Topic(stack, 'Pager');
  new ImportJobMonitor(stack, 'Monitor', {
    userPool: cognito.UserPool.fromUserPoolId(stack, 'Pool', 'eu-west-1_AbC123'),
    alarmActions: [new actions.SnsAction(pager)],
  });
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as any[];
  const failed = alarms.find((a) => a.Properties.AlarmName.endsWith('-JobFailed'));
  const { subject, body } = renderAlarmEmail(failed.Properties, {
    region: 'eu-west-1',
    regionName: 'EU (Ireland)',
    account: '123456789012',
    refs: { MonitorLogGroup: 'Identity-MonitorLogGroupE7672C83-q1W2e3R4t5Y6', Pager: 'arn:aws:sns:eu-west-1:123456789012:Identity-Pager1234ABCD-a1b2c3d4e5f6' },
    at: new Date('2026-03-02T03:02:14Z'),
    reason: 'Threshold Crossed: 1 out of the last 5 datapoints [1.0 (02/03/26 03:01:00)] was greater than or equal to the threshold (1.0) (minimum 1 datapoint for OK -> ALARM transition).',
  });
  return `Subject: ${subject}\n\n${body}`;
}

it('shows in docs/alarms.md the e-mail a JobFailed page sends, with the real description', () => {
  const doc = fs.readFileSync(DOC, 'utf8');
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  expect(start).toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(start);
  const email = jobFailedEmail();
  const block = `${START}\n\`\`\`text\n${email}\n\`\`\`\n`;
  if (process.env.UPDATE_DOCS) fs.writeFileSync(DOC, doc.slice(0, start) + block + doc.slice(end));
  else expect(doc.slice(start, end)).toEqual(block);
  expect(email).toContain('A user import job into Cognito user pool eu-west-1_AbC123 ended Failed');
  expect(email).toContain('Identity-MonitorLogGroupE7672C83-q1W2e3R4t5Y6');
});
