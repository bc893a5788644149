/**
 * What every section of the stack shares. Sections are plain functions that
 * create their resources directly in the stack (scope = the stack), not
 * nested constructs: a construct in between would prefix every logical ID
 * and make CloudFormation replace every resource on the next deploy.
 */
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { InfraConfig } from '../../shared/runtime/deploy-config';

/** The stack a section builds into and the deployment configuration. */
export interface Section {
  readonly stack: Stack;
  readonly cfg: InfraConfig;
}

/**
 * Data stores outlive the stack: `cdk destroy` (and an update that replaces
 * one) must not delete ticks, state or keys. But not RETAIN: CloudFormation
 * keeps a retained resource even when it rolls back the create that made
 * it, so a failed first deploy would leave the fixed-name KCL tables (and a
 * billed stream, two KMS keys) behind and every retry would fail with
 * "already exists". RETAIN_ON_UPDATE_OR_DELETE (CloudFormation's
 * RetainExceptOnCreate) deletes what a failed create made, and retains
 * everything once it has been created successfully:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
 */
export const DATA_REMOVAL_POLICY = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE;

/**
 * What a task needs on the data key to use the stores it encrypts, and only
 * through those stores' services (kms:ViaService), so the role cannot call
 * KMS directly to decrypt anything. What each service documents:
 * - Kinesis: producers kms:GenerateDataKey, consumers kms:Decrypt
 *   https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html
 * - SNS publish and SQS send to an encrypted topic/queue: kms:GenerateDataKey and kms:Decrypt
 *   https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
 *   https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html
 * - S3 PutObject with SSE-KMS: kms:GenerateDataKey (kms:Decrypt for multipart)
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
 * - DynamoDB tables with a customer managed key: kms:Decrypt to use the table key
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html
 * Not kms:Encrypt (these services encrypt with data keys, never with
 * Encrypt) and not kms:DescribeKey (only who creates the table or stream
 * needs it: CloudFormation). kms:ViaService:
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
 */
const KMS_USE_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** The services whose requests may use a key for a task (kms:ViaService). */
export type KeyUsingService = 'kinesis' | 'dynamodb' | 'sns' | 'sqs' | 's3';

export function allowKeyVia(grantee: iam.IGrantable, key: kms.IKey, services: readonly KeyUsingService[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...KMS_USE_ACTIONS],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': services.map((s) => `${s}.${Stack.of(key).region}.amazonaws.com`) } },
    }),
  );
}

/** The Glue database: the app name in the only characters Glue and Athena accept unquoted. */
export function glueDatabaseName(cfg: InfraConfig): string {
  return cfg.appName.replace(/-/g, '_');
}

/** One explicit, wildcard-free statement; the only way data-plane permissions are granted here. */
export function allow(grantee: iam.IGrantable, actions: readonly string[], resources: readonly string[]): void {
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [...resources] }));
}
