/**
 * Builds the CDK app: config from context, the stack, and cdk-nag's
 * AwsSolutions pack registered as a validation plugin (any unacknowledged
 * finding fails `cdk synth`). Separate from app.ts so tests build the same
 * app without synthesizing it to disk.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { STACK_NAME } from '../shared/stack-outputs';
import { loadInfraConfig } from '../shared/runtime/deploy-config';
import { TickstreamStack } from './stack';


export interface BuiltApp {
  readonly app: App;
  readonly stack: TickstreamStack;
}

export function buildApp(props: AppProps = {}, opts: { nag?: boolean; contextDir?: string } = {}): BuiltApp {
  const app = new App(props);
  const config = loadInfraConfig((key) => app.node.tryGetContext(key) as unknown);
  const stack = new TickstreamStack(app, STACK_NAME, {
    config,
    description: 'tickstream: real-time stock market analytics pipeline (Kinesis, KCL on Fargate, DynamoDB, Firehose Parquet lake, Athena, SNS)',
    ...(opts.contextDir === undefined ? {} : { contextDir: opts.contextDir }),
  });
  if (opts.nag ?? true) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
