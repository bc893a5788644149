/**
 * Issue 12, items 1 and 6: a first deploy that succeeds in a brand-new
 * account and can be retried after a failure; the security loose ends.
 */
import { ENV } from '../../../shared/env-names';
import { ConfigError } from '../../../shared/runtime/config';
import { loadConsumerConfig } from '../../../consumer/config';
import { loadProducerConfig } from '../../../producer/config';
import { loadInfraConfig } from '../../../shared/runtime/deploy-config';
import { TASK_TMP_PATH } from '../../../infra/sections/fargate-task';
import { arnText, referencedIds, resources, resourcesOfType, roleStatements, synth, type Json, type Synth } from './template';

let s: Synth;
beforeAll(() => {
  s = synth();
}, 120_000);

type FullResource = { Type: string; Properties?: Json; DependsOn?: string[]; DeletionPolicy?: string; UpdateReplacePolicy?: string };
const all = (): Record<string, FullResource> => s.json.Resources;
const idsOf = (type: string): string[] => resourcesOfType(s, type).map((r) => r.id);
const serviceId = (prefix: string): string => {
  const id = idsOf('AWS::ECS::Service').find((x) => x.startsWith(prefix));
  if (id === undefined) throw new Error(`no ${prefix} service`);
  return id;
};

describe('a failed first deploy can be retried', () => {
  const STORES = ['AWS::DynamoDB::Table', 'AWS::Kinesis::Stream', 'AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::SQS::Queue'];

  test.each(STORES)('every %s is RetainExceptOnCreate: kept on delete and replacement, removed when the create that made it rolls back', (type) => {
    const found = Object.entries(all()).filter(([, r]) => r.Type === type);
    expect(found.length).toBeGreaterThan(0);
    for (const [id, r] of found) expect({ id, deletion: r.DeletionPolicy, replace: r.UpdateReplacePolicy }).toEqual({ id, deletion: 'RetainExceptOnCreate', replace: 'Retain' });
  });

  test('no resource is plain Retain, which would outlive a rolled-back create and block the retry with "already exists"', () => {
    expect(Object.entries(all()).filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id)).toEqual([]);
  });

  test('the consumer service starts only after the three KCL tables exist (or the KCL would find no table, and may not create one)', () => {
    const kcl = idsOf('AWS::DynamoDB::Table').filter((id) => id.startsWith('Kcl'));
    expect(kcl).toHaveLength(3);
    expect(all()[serviceId('ConsumerService')]?.DependsOn).toEqual(expect.arrayContaining(kcl));
  });

  test('both services start only after the private subnets have their NAT default route', () => {
    const natRoutes = Object.entries(all())
      .filter(([id, r]) => r.Type === 'AWS::EC2::Route' && id.includes('private') && [...referencedIds(r.Properties?.NatGatewayId)].length > 0)
      .map(([id]) => id);
    expect(natRoutes).toHaveLength(2);
    for (const svc of ['ProducerService', 'ConsumerService']) expect({ svc, deps: all()[serviceId(svc)]?.DependsOn }).toEqual({ svc, deps: expect.arrayContaining(natRoutes) as unknown });
  });

  describe('the ECS service-linked role', () => {
    const slr = (): [string, FullResource] => {
      const found = Object.entries(all()).filter(([, r]) => r.Type === 'Custom::AWS');
      expect(found).toHaveLength(1);
      return found[0] as [string, FullResource];
    };

    test('is created by a custom resource before the cluster and both services, and an existing role (InvalidInput) is not an error', () => {
      const [id, r] = slr();
      const create = JSON.parse(String(r.Properties?.Create)) as Json;
      expect(create).toEqual({
        service: 'IAM',
        action: 'createServiceLinkedRole',
        parameters: { AWSServiceName: 'ecs.amazonaws.com' },
        physicalResourceId: { id: 'AWSServiceRoleForECS' },
        ignoreErrorCodesMatching: 'InvalidInput',
      });
      for (const dependent of [idsOf('AWS::ECS::Cluster')[0] ?? '', serviceId('ProducerService'), serviceId('ConsumerService')]) {
        expect({ dependent, deps: all()[dependent]?.DependsOn }).toEqual({ dependent, deps: expect.arrayContaining([id]) as unknown });
      }
    });

    test('is never deleted with the stack (other stacks in the account may use it): no Delete or Update call', () => {
      const [, r] = slr();
      expect(r.Properties?.Delete).toBeUndefined();
      expect(r.Properties?.Update).toBeUndefined();
    });

    test('its function may create only the ECS service-linked role', () => {
      const statements = resourcesOfType(s, 'AWS::IAM::Policy')
        .filter((p) => p.id.startsWith('EcsServiceLinkedRole'))
        .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement);
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatchObject({ Action: 'iam:CreateServiceLinkedRole', Effect: 'Allow', Condition: { StringEquals: { 'iam:AWSServiceName': 'ecs.amazonaws.com' } } });
      expect(arnText(statements[0]?.Resource)).toBe('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS');
    });
  });
});

describe('synth refuses what a task would refuse at start (the same schemas: shared/runtime/task-settings.ts)', () => {
  const refuses = (f: () => unknown): boolean => {
    try {
      f();
      return false;
    } catch (e) {
      if (e instanceof ConfigError) return true;
      throw e;
    }
  };
  /** The environment of a synthesized task, with CloudFormation tokens as placeholders. */
  const taskEnv = (prefix: string): Record<string, string> => {
    const td = resourcesOfType(s, 'AWS::ECS::TaskDefinition').find((t) => t.id.startsWith(prefix));
    const [c] = (td?.Properties.ContainerDefinitions ?? []) as { Environment: { Name: string; Value: unknown }[] }[];
    // What CloudFormation fills in at deploy time: the region, resource names and ARNs.
    const deployed = (name: string): string => (name === ENV.region ? 'us-east-1' : 'resolved-at-deploy');
    return Object.fromEntries((c?.Environment ?? []).map((e) => [e.Name, typeof e.Value === 'string' ? e.Value : deployed(e.Name)]));
  };

  test('the deployed producer and consumer accept the environment the default stack gives them', () => {
    expect(refuses(() => loadProducerConfig(taskEnv('ProducerTask')))).toBe(false);
    expect(refuses(() => loadConsumerConfig(taskEnv('ConsumerTask')))).toBe(false);
  });

  // context key, its task variable, the task that reads it, values either side of the task's bounds
  test.each([
    ['intervalMs', ENV.pollIntervalMs, 'producer', ['250', '999', '1000', '5000', '3600000', '3600001']],
    ['source', ENV.source, 'producer', ['yahoo', 'synthetic', 'replay', 'bogus']],
    ['logLevel', ENV.logLevel, 'producer', ['info', 'debug', 'trace', 'WARN']],
    ['logLevel', ENV.logLevel, 'consumer', ['error', 'verbose']],
    ['ticksTtlDays', ENV.ticksTtlDays, 'consumer', ['0', '0.5', '1', '3650', '3651']],
    ['symbols', ENV.symbols, 'producer', ['AAPL,MSFT', 'AAPL,$$$']],
  ] as const)('context "%s" -> %s (%s): synth and the task agree on every value', (key, variable, task, values) => {
    const base = taskEnv(task === 'producer' ? 'ProducerTask' : 'ConsumerTask');
    // The stack really passes this context value in this variable.
    expect(Object.keys(base)).toContain(variable);
    for (const value of values) {
      const synthRefuses = refuses(() => loadInfraConfig((k) => (k === key ? value : undefined)));
      const env = { ...base, [variable]: value };
      const taskRefuses = refuses(() => (task === 'producer' ? loadProducerConfig(env) : loadConsumerConfig(env)));
      expect({ key, value, synthRefuses }).toEqual({ key, value, synthRefuses: taskRefuses });
    }
  });

  test('`cdk synth -c intervalMs=999` and `-c source=replay` fail naming the context key', () => {
    expect(() => synth({ intervalMs: '999' })).toThrow(/context "intervalMs": expected an integer in \[1000, 3600000\], got "999"/);
    expect(() => synth({ source: 'replay' })).toThrow(/context "source": expected yahoo or synthetic .*got "replay"/);
  });
});

describe('security loose ends', () => {
  test.each([
    ['ProducerTaskTaskRole', ['kinesis', 'dynamodb']],
    ['ConsumerTaskTaskRole', ['kinesis', 'dynamodb', 'sns', 'sqs', 's3']],
  ])('%s may use the data key only through %j, with kms:Decrypt and kms:GenerateDataKey only', (role, services) => {
    const kms = roleStatements(s, role).filter((st) => st.actions.some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]?.actions.slice().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(resources(kms[0] ?? ({ Resource: [] } as never))).toEqual([expect.stringMatching(/^\$\{DataKey[0-9A-F]*\.Arn\}$/)]);
    const via = (kms[0]?.Condition as { StringEquals: { 'kms:ViaService': unknown[] } }).StringEquals['kms:ViaService'].map(arnText);
    expect(via).toEqual(services.map((svc) => `${svc}.\${AWS::Region}.amazonaws.com`));
  });

  test('the default security group is stripped of its rules (restrictDefaultSecurityGroup)', () => {
    const [restrict] = resourcesOfType(s, 'Custom::VpcRestrictDefaultSG');
    expect(JSON.stringify(restrict?.Properties.DefaultSecurityGroupId)).toMatch(/"Vpc[0-9A-F]+","DefaultSecurityGroup"/);
  });

  test('every log group is encrypted with the data key, whose policy lets CloudWatch Logs use it for this account\'s log groups only', () => {
    const groups = resourcesOfType(s, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const g of groups) expect({ id: g.id, key: g.Properties.KmsKeyId }).toEqual({ id: g.id, key: { 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] } });
    const dataKey = resourcesOfType(s, 'AWS::KMS::Key').find((k) => k.id.startsWith('DataKey'));
    const statements = (dataKey?.Properties.KeyPolicy as { Statement: { Sid?: string; Principal: Json; Condition?: Json }[] }).Statement;
    const logs = statements.find((st) => st.Sid === 'CloudWatchLogsOfThisAccount');
    expect(arnText((logs?.Principal as { Service: unknown }).Service)).toBe('logs.${AWS::Region}.amazonaws.com');
    expect(arnText((logs?.Condition as { ArnLike: Record<string, unknown> }).ArnLike['kms:EncryptionContext:aws:logs:arn'])).toBe(
      'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*',
    );
  });

  test('both containers run on a read-only root filesystem with /tmp as the task\'s own scratch volume', () => {
    const tds = resourcesOfType(s, 'AWS::ECS::TaskDefinition');
    expect(tds).toHaveLength(2);
    for (const td of tds) {
      const [c] = td.Properties.ContainerDefinitions as Json[];
      expect({ id: td.id, ro: c?.ReadonlyRootFilesystem, mounts: c?.MountPoints }).toEqual({
        id: td.id,
        ro: true,
        mounts: [{ ContainerPath: TASK_TMP_PATH, ReadOnly: false, SourceVolume: 'tmp' }],
      });
      // No host path: a Fargate bind mount on the task's ephemeral storage.
      expect(td.Properties.Volumes).toEqual([{ Name: 'tmp' }]);
    }
  });
});
