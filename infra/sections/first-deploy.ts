import { Arn, CfnResource, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Section } from './common';

/** What the services wait for on a first deploy. */
interface FirstDeployDeps {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly producer: ecs.FargateService;
  readonly consumer: ecs.FargateService;
  /** The KCL's lease, worker-metrics and coordinator-state tables. */
  readonly kclTables: readonly dynamodb.Table[];
}

/**
 * The ordering a brand-new account needs so the first `cdk deploy` succeeds
 * (and a failed one can be retried: see DATA_REMOVAL_POLICY):
 *
 * - ECS's service-linked role. An account that never used ECS has none, and
 *   the first CreateService can fail while ECS creates it
 *   (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html).
 *   A custom resource creates it first; where it exists IAM answers
 *   InvalidInput ("has been taken"), which is ignored, and deleting the stack
 *   leaves the role alone (other stacks in the account may use it).
 * - The KCL's tables. A consumer task started before CloudFormation created
 *   them would let the KCL create its own lease table (it may not: the grant
 *   has no CreateTable, infra/kcl.ts), and the stack's table of the same
 *   name would then fail with "already exists".
 * - The private subnets' NAT routes: without them a task cannot pull its
 *   image or reach Kinesis, and the circuit breaker rolls the deploy back.
 */
export function firstDeployOrder({ stack }: Section, d: FirstDeployDeps): cr.AwsCustomResource {
  const roleName = 'AWSServiceRoleForECS';
  const ecsServiceLinkedRole = new cr.AwsCustomResource(stack, 'EcsServiceLinkedRole', {
    onCreate: {
      service: 'IAM',
      action: 'createServiceLinkedRole',
      parameters: { AWSServiceName: 'ecs.amazonaws.com' },
      physicalResourceId: cr.PhysicalResourceId.of(roleName),
      ignoreErrorCodesMatching: 'InvalidInput',
    },
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html#service-linked-role-permissions
    policy: cr.AwsCustomResourcePolicy.fromStatements([
      new iam.PolicyStatement({
        actions: ['iam:CreateServiceLinkedRole'],
        resources: [Arn.format({ service: 'iam', region: '', resource: 'role', resourceName: `aws-service-role/ecs.amazonaws.com/${roleName}` }, stack)],
        conditions: { StringEquals: { 'iam:AWSServiceName': 'ecs.amazonaws.com' } },
      }),
    ]),
    // The SDK bundled with the Lambda runtime has CreateServiceLinkedRole;
    // installing the latest at deploy time would need npm from inside the VPC-less Lambda.
    installLatestAwsSdk: false,
  });
  d.cluster.node.addDependency(ecsServiceLinkedRole);
  const nat = d.vpc.privateSubnets.map((s) => s.internetConnectivityEstablished);
  for (const service of [d.producer, d.consumer]) {
    service.node.addDependency(ecsServiceLinkedRole, ...nat);
  }
  d.consumer.node.addDependency(...d.kclTables);
  return ecsServiceLinkedRole;
}

/** Construct id of the Lambda function aws-cdk-lib shares between all AwsCustomResources of a stack. */
const AWS_CUSTOM_RESOURCE_FUNCTION = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;
/** Construct id of the provider behind `restrictDefaultSecurityGroup` (infra/sections/network.ts). */
const RESTRICT_DEFAULT_SG_PROVIDER = 'Custom::VpcRestrictDefaultSGCustomResourceProvider';

/**
 * The Lambda functions aws-cdk-lib provides for custom resources (the ECS
 * service-linked role above, the default security group restriction), and
 * what the linters say about them. Call after every section is built.
 *
 * cdk-nag: one finding, AwsSolutions-IAM4 on the AwsCustomResource
 * function's role (AWSLambdaBasicExecutionRole), acknowledged on that
 * construct only, so the same finding on a function of ours still fails
 * synth. The restrictDefaultSecurityGroup provider's role carries the same
 * managed policy, written as Fn::Sub, which cdk-nag does not resolve; it
 * raises nothing there (and AwsSolutions-L1 raises nothing: both run the
 * latest Node.js runtime). test/unit/infra/stack.test.ts lists both roles as
 * the only ones with a managed policy.
 */
export function cdkProvidedLambdas({ stack }: Section): void {
  const customResourceFunction = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_FUNCTION);
  if (customResourceFunction !== undefined) {
    Validations.of(customResourceFunction).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'The Lambda function aws-cdk-lib ships for AwsCustomResource; AWSLambdaBasicExecutionRole only lets it write its own CloudWatch logs, and its one other permission is the call it makes (iam:CreateServiceLinkedRole for ecs.amazonaws.com).',
    });
  }
  for (const p of [customResourceFunction, stack.node.tryFindChild(RESTRICT_DEFAULT_SG_PROVIDER)]) {
    // The function lists its role in DependsOn and also reads the role's
    // Arn with GetAtt, which already orders them: cfn-lint W3005. Dropping
    // the DependsOn changes nothing CloudFormation does.
    const handler = p?.node.tryFindChild('Handler') ?? p?.node.defaultChild;
    if (handler instanceof CfnResource) handler.addDeletionOverride('DependsOn');
  }
}
