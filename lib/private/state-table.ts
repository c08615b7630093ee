/** The state table the handler keeps each job's last seen state in: its keys are the handler's (see contract.ts). */
import { RemovalPolicy, aws_dynamodb as dynamodb } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { TABLE_PARTITION_KEY, TABLE_SORT_KEY } from '../contract';

export function stateTable(scope: Construct, id: string, removalPolicy: RemovalPolicy): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
    sortKey: { name: TABLE_SORT_KEY, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    removalPolicy,
  });
  // Set on the CloudFormation resource: older aws-cdk-lib releases (2.150 among them) drop the prop
  // pointInTimeRecoverySpecification without a word, and newer ones deprecate pointInTimeRecovery.
  (table.node.defaultChild as dynamodb.CfnTable).pointInTimeRecoverySpecification = { pointInTimeRecoveryEnabled: true };
  return table;
}
