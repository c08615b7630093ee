import { Stack, StackProps, Validations, aws_cognito as cognito, aws_cloudwatch_actions as actions, aws_sns as sns } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ImportJobMonitor } from '../lib';

export interface ExampleStackProps extends StackProps {
  /** An existing pool to monitor; without it the stack creates one. */
  readonly userPoolId?: string;
}

/** The example app: a monitor on a user pool, paging an SNS topic. */
export class ExampleStack extends Stack {
  public readonly monitor: ImportJobMonitor;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);
    // An empty -c userPoolId= is a mistake to report, not a request for a new pool (and aws-cdk-lib's own
    // message for it, "invalid user pool ARN", names nothing).
    if (props.userPoolId === '') throw new Error('userPoolId must name a user pool such as eu-west-1_AbC123, got ""');
    const userPool = props.userPoolId !== undefined
      ? cognito.UserPool.fromUserPoolId(this, 'UserPool', props.userPoolId)
      : new cognito.UserPool(this, 'UserPool', {
          passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
          mfa: cognito.Mfa.REQUIRED,
          mfaSecondFactor: { otp: true, sms: false },
        });
    if (userPool instanceof cognito.UserPool) {
      Validations.of(userPool).acknowledge({
        id: 'AwsSolutions::AwsSolutions-COG8',
        reason: 'An example pool for the monitor to watch; the Plus feature plan (threat protection) costs per user and is the pool owner\'s choice, not the monitor\'s.',
      });
    }
    const topic = new sns.Topic(this, 'Alarms', { enforceSSL: true });
    this.monitor = new ImportJobMonitor(this, 'ImportJobs', {
      userPool,
      alarmActions: [new actions.SnsAction(topic)],
    });
  }
}
