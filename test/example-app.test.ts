import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations, aws_cognito as cognito, aws_iam as iam } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CURRENTLY_RECOMMENDED_FLAGS } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from '../bin/example-stack';
import { ImportJobMonitor } from '../lib';

const CDK_JSON = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8'));

/** An app as `cdk synth` makes it from cdk.json, with the cdk-nag checks of bin/app.ts. */
function checkedApp(): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'nag-')), context: CDK_JSON.context });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

describe('the example app', () => {
  it('sets every feature flag cdk init recommends, so synth prints no notice about unset flags', () => {
    expect(CDK_JSON.context).toEqual(expect.objectContaining(CURRENTLY_RECOMMENDED_FLAGS));
  });

  it('passes the AWS Solutions checks with a new user pool', () => {
    const app = checkedApp();
    new ExampleStack(app, 'Example');
    expect(() => app.synth()).not.toThrow();
  });

  it('passes the AWS Solutions checks monitoring an existing pool', () => {
    const app = checkedApp();
    const stack = new ExampleStack(app, 'Example', { userPoolId: 'eu-west-1_AbC123' });
    expect(() => app.synth()).not.toThrow();
    Template.fromStack(stack).resourceCountIs('AWS::Cognito::UserPool', 0);
  });

  it.each([
    ['bad id', 'userPool must have an ID like eu-west-1_AbC123 (its region, an underscore, letters and digits), got "bad id"'],
    ['', 'userPoolId must name a user pool such as eu-west-1_AbC123, got ""'],
  ])('fails at synth on -c userPoolId=%j, naming it', (userPoolId, message) => {
    expect(() => new ExampleStack(checkedApp(), 'Example', { userPoolId })).toThrow(message);
  });

  it("passes the AWS Solutions checks monitoring every pool of the account and region, the library's wildcards acknowledged", () => {
    const app = checkedApp();
    const stack = new ExampleStack(app, 'Example', { fleet: true, env: { account: '123456789012', region: 'eu-west-1' } });
    expect(() => app.synth()).not.toThrow();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ DISCOVER_USER_POOLS: JSON.stringify({ include: ['*'], exclude: ['*-sandbox'] }) }) },
    });
  });

  it('would still be stopped by the checks for a wildcard of its own beside the acknowledged ones', () => {
    const app = checkedApp();
    const stack = new ExampleStack(app, 'Example', { fleet: true });
    stack.monitor.handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['cognito-idp:AdminGetUser'], resources: ['arn:aws:cognito-idp:eu-west-1:123456789012:userpool/*'] }));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Resource::arn:aws:cognito-idp:eu-west-1:123456789012:userpool\/\*\]/);
  });

  it('fails at synth when asked for a fleet and one pool at once', () => {
    expect(() => new ExampleStack(checkedApp(), 'Example', { fleet: true, userPoolId: 'eu-west-1_AbC123' })).toThrow(
      'userPoolId and fleet exclude each other: a fleet discovers its pools',
    );
  });

  it('would be stopped by the checks for a pool that breaks them', () => {
    const app = checkedApp();
    const stack = new ExampleStack(app, 'Example', { userPoolId: 'eu-west-1_AbC123' });
    new ImportJobMonitor(stack, 'Other', { userPool: new cognito.UserPool(stack, 'Weak') });
    expect(() => app.synth()).toThrow(/AwsSolutions-COG/);
  });
});
