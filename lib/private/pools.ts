/**
 * What differs between a monitor of one pool and a fleet's, behind one interface: which pools, what the function is
 * told and may call, how an alarm selects its metric (a pool's own, or a Metrics Insights query with a contributor per
 * pool), what the alarms say and which events are the monitor's. `SinglePool` is here; `FleetPools` in fleet-pools.ts.
 */
import { Stack, Token, aws_cloudwatch as cloudwatch, aws_cognito as cognito, aws_events as events, aws_iam as iam, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DIMENSION_USER_POOL_ID, ENV_USER_POOL_ID, EVENT_SOURCE, userPoolRegion } from '../contract';
import { ImportJobMonitorProps } from '../props';
import { AlarmSpec } from './alarm-specs';
import { DescriptionContext, Descriptions, singlePoolDescriptions } from './descriptions';
import { handlerCode } from './handler-code';
import { ResolvedAlarmOptions, validateAccount, validateNoFleetProps, validateUserPool } from './validate';

/** An IAM statement of the function's, with the reason cdk-nag is given for its wildcard, if it has one. */
export interface PolicyGrant {
  readonly statement: iam.PolicyStatement;
  readonly wildcard?: string;
}

export interface MonitoredPools {
  /** Whether the alarms are Metrics Insights queries with a contributor per pool. */
  readonly fleet: boolean;
  /** The prop the pools came from, for messages. */
  readonly source: 'userPool' | 'userPools' | 'discoverUserPools';
  /** The single pool's ID; undefined for a fleet. */
  readonly userPoolId?: string;
  /** A fleet's name, the `Monitor` dimension of its own metrics; undefined for a single pool. */
  readonly monitorName?: string;
  /** The dimensions of the monitor's own metrics (its pool's, or the fleet's heartbeat). */
  readonly ownDimensions: Record<string, string>;
  /** The regions of the pools: the pool's, the list's, or the stack's for discovery (a token when it is unknown). */
  readonly regions: string[];
  /** Which pools, in one line of markdown for a dashboard's header. */
  readonly summary: string;
  readonly defaultAlarmNamePrefix: string;
  readonly roleDescription: string;
  readonly handlerDescription: string;
  readonly memorySize: number;
  /** What the function is told of its pools. */
  readonly environment: Record<string, string>;
  code(): lambda.Code;
  /** The function's Cognito permissions. */
  statements(jobEvents: boolean): PolicyGrant[];
  /** The pattern of the monitor's events of a detail type about these pools, and into these statuses if given. */
  eventPattern(detailType: string, statuses?: string[]): events.EventPattern;
  /** What an alarm makes of a period without data. */
  treatMissingData(spec: AlarmSpec): cloudwatch.TreatMissingData;
  /** Checks an alarm's options against what its kind of alarm can evaluate. */
  checkAlarmOptions(prop: string, options: ResolvedAlarmOptions): void;
  descriptions(context: DescriptionContext): Descriptions;
  /** Fails a single pool's metric accessor called on a fleet. */
  requireOnePool(method: string, fleetMethod: string): void;
  /** Fails a fleet's member called on a single pool. */
  requireFleet(message: string): void;
}

/** One user pool, `userPool`, in any region of the stack's account. */
export class SinglePool implements MonitoredPools {
  public readonly fleet = false;
  public readonly source = 'userPool';
  public readonly userPoolId: string;
  public readonly ownDimensions: Record<string, string>;
  public readonly regions: string[];
  public readonly summary: string;
  public readonly defaultAlarmNamePrefix: string;
  public readonly roleDescription = 'Lists the user import jobs of one user pool and keeps their state';
  public readonly handlerDescription = 'Publishes CloudWatch metrics on the user import jobs of a Cognito user pool';
  public readonly memorySize = 256;
  public readonly environment: Record<string, string>;

  constructor(private readonly scope: Construct, private readonly userPool: cognito.IUserPool, props: ImportJobMonitorProps) {
    this.userPoolId = userPool.userPoolId;
    validateUserPool(userPool, 'userPool');
    validateAccount(scope, userPool);
    validateNoFleetProps(props);
    this.ownDimensions = { [DIMENSION_USER_POOL_ID]: this.userPoolId };
    this.regions = [userPoolRegion(this.userPoolId) ?? Stack.of(scope).region];
    this.summary = this.userPoolId;
    this.defaultAlarmNamePrefix = `ImportJobs-${this.userPoolId}`;
    this.environment = { [ENV_USER_POOL_ID]: this.userPoolId };
  }

  public code(): lambda.Code {
    return handlerCode();
  }

  public statements(jobEvents: boolean): PolicyGrant[] {
    return [{
      statement: new iam.PolicyStatement({ actions: poolActions(jobEvents), resources: [userPoolArn(this.scope, this.userPool)] }),
    }];
  }

  public eventPattern(detailType: string, statuses?: string[]): events.EventPattern {
    return {
      source: [EVENT_SOURCE],
      detailType: [detailType],
      detail: {
        userPoolId: [this.userPoolId],
        ...(statuses ? { status: [...new Set(statuses)] } : {}),
      },
    };
  }

  /**
   * For counts (`NOT_BREACHING`), a period without a run had nothing happen; for the warning gauges (`IGNORE`),
   * published every minute while such a job exists, no data means the monitor is not running, which the health alarm
   * reports, so the alarm keeps its state rather than claiming all is well.
   */
  public treatMissingData(spec: AlarmSpec): cloudwatch.TreatMissingData {
    return spec.gauge ? cloudwatch.TreatMissingData.IGNORE : cloudwatch.TreatMissingData.NOT_BREACHING;
  }

  public checkAlarmOptions(): void {}

  public descriptions(context: DescriptionContext): Descriptions {
    return singlePoolDescriptions(this.userPoolId, context);
  }

  public requireOnePool(): void {}

  public requireFleet(message: string): void {
    throw new Error(message);
  }
}

/** What the function may call on each pool it watches. */
export function poolActions(jobEvents: boolean): string[] {
  // DescribeUserPool: the pool's name, which the events' import log location needs.
  return ['cognito-idp:ListUserImportJobs', ...(jobEvents ? ['cognito-idp:DescribeUserPool'] : [])];
}

/**
 * The pool's ARN in the region its ID names, so that a monitor in us-east-1 may list the jobs of a pool in
 * eu-west-1. `UserPool.fromUserPoolId` would name the stack's region. A token ID keeps the pool's own ARN.
 */
export function userPoolArn(scope: Construct, userPool: cognito.IUserPool): string {
  const region = Token.isUnresolved(userPool.userPoolId) ? undefined : userPoolRegion(userPool.userPoolId);
  if (region === undefined) return userPool.userPoolArn;
  return Stack.of(scope).formatArn({
    service: 'cognito-idp',
    region,
    account: userPool.env.account,
    resource: 'userpool',
    resourceName: userPool.userPoolId,
  });
}
