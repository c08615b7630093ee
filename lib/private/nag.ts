/** What the library tells cdk-nag about its own resources. */
import * as cdk from 'aws-cdk-lib';
import { Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * Tells cdk-nag (3, through aws-cdk-lib's `Validations`; 2, through the `cdk_nag` metadata of the policy) why each
 * wildcard resource is there, one acknowledgement per finding, so that any other wildcard is still reported.
 * `Validations` is absent from older aws-cdk-lib releases, where cdk-nag 3 does not run either.
 */
export function acknowledgeWildcards(role: iam.Role, findings: { resource: string; reason: string }[]): void {
  if (findings.length === 0) return;
  const stack = Stack.of(role);
  const flat = findings.map((f) => ({ appliesTo: `Resource::${flatten(stack.resolve(f.resource))}`, reason: f.reason }));
  const validations = (cdk as { Validations?: { of(scope: Construct): { acknowledge?: (...rules: { id: string; reason: string }[]) => void } } }).Validations;
  const ofRole = validations?.of(role);
  ofRole?.acknowledge?.(...flat.map((f) => ({ id: `AwsSolutions::AwsSolutions-IAM5[${f.appliesTo}]`, reason: f.reason })));
  const policy = role.node.tryFindChild('DefaultPolicy')?.node.defaultChild as iam.CfnPolicy | undefined;
  policy?.addMetadata('cdk_nag', {
    rules_to_suppress: flat.map((f) => ({ id: 'AwsSolutions-IAM5', reason: f.reason, applies_to: [f.appliesTo] })),
  });
}

/** A resolved ARN as cdk-nag names it: references as `<Name>`, joins joined. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref !== undefined) return `<${v.Ref as string}>`;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(sep);
  }
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  return JSON.stringify(value);
}
