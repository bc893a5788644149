/**
 * What every section of the stack shares. Sections are plain functions that
 * create their resources directly in the stack (scope = the stack), not
 * nested constructs: a construct in between would prefix every logical ID
 * and make CloudFormation replace every resource on the next deploy.
 */
import { RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { InfraConfig } from '../../shared/runtime/deploy-config';

/** The stack a section builds into and the deployment configuration. */
export interface Section {
  readonly stack: Stack;
  readonly cfg: InfraConfig;
}

/** Data stores outlive the stack: `cdk destroy` must not delete ticks, state or keys. */
export const DATA_REMOVAL_POLICY = RemovalPolicy.RETAIN;

/** What a principal needs on the CMK to use a DynamoDB table, SQS queue or SNS topic encrypted with it. */
export const KMS_USE_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

/** The Glue database: the app name in the only characters Glue and Athena accept unquoted. */
export function glueDatabaseName(cfg: InfraConfig): string {
  return cfg.appName.replace(/-/g, '_');
}

/** One explicit, wildcard-free statement; the only way data-plane permissions are granted here. */
export function allow(grantee: iam.IGrantable, actions: readonly string[], resources: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [...resources] }));
}
