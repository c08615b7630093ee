import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Validations, aws_cognito as cognito } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from '../bin/example-stack';
import { ImportJobMonitor } from '../lib';

function checkedApp(): App {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'nag-')) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

describe('the example app', () => {
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

  it('fails at synth on a malformed -c userPoolId, naming it', () => {
    expect(() => new ExampleStack(checkedApp(), 'Example', { userPoolId: 'bad id' })).toThrow(/userPool must have an ID like eu-west-1_AbC123 .*got "bad id"/);
  });

  it('would be stopped by the checks for a pool that breaks them', () => {
    const app = checkedApp();
    const stack = new ExampleStack(app, 'Example', { userPoolId: 'eu-west-1_AbC123' });
    new ImportJobMonitor(stack, 'Other', { userPool: new cognito.UserPool(stack, 'Weak') });
    expect(() => app.synth()).toThrow(/AwsSolutions-COG/);
  });
});
