#!/usr/bin/env node
// The example app: `npx cdk synth` monitors a new user pool, `npx cdk synth -c userPoolId=eu-west-1_AbC123` an existing
// one, `npx cdk synth -c fleet=true` every pool of the account and region (a fleet).
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from './example-stack';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
new ExampleStack(app, 'ImportJobMonitorExample', {
  userPoolId: app.node.tryGetContext('userPoolId'),
  fleet: [true, 'true'].includes(app.node.tryGetContext('fleet')),
});
