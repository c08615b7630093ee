import { Stack, StackProps, Validations, aws_cognito as cognito, aws_cloudwatch_actions as actions, aws_sns as sns } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { ImportJobMonitor } from '../lib';

export interface ExampleStackProps extends StackProps {
  /** An existing pool to monitor; without it the stack creates one. */
  readonly userPoolId?: string;
  /**
   * Monitor every user pool of the account and region instead, found on each run (a fleet), except those whose
   * ID or name ends in `-sandbox`.
   * @default false
   */
  readonly fleet?: boolean;
}

/** The example app: a monitor on a user pool, or on every pool of the account and region, paging an SNS topic. */
export class ExampleStack extends Stack {
  public readonly monitor: ImportJobMonitor;

  constructor(scope: Construct, id: string, props: ExampleStackProps = {}) {
    super(scope, id, props);
    const topic = new sns.Topic(this, 'Alarms', { enforceSSL: true });
    if (props.fleet) {
      if (props.userPoolId !== undefined) throw new Error('userPoolId and fleet exclude each other: a fleet discovers its pools');
      // The library tells cdk-nag why its role reads every pool of the region: discovery finds them at run time.
      this.monitor = new ImportJobMonitor(this, 'ImportJobs', {
        discoverUserPools: { exclude: ['*-sandbox'] },
        alarmActions: [new actions.SnsAction(topic)],
      });
      return;
    }
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
    this.monitor = new ImportJobMonitor(this, 'ImportJobs', {
      userPool,
      alarmActions: [new actions.SnsAction(topic)],
    });
  }
}
