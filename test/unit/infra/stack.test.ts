import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { glueColumns } from '../../../shared/enriched';
import { TICK_BOUNDS } from '../../../shared/tick';
import { ENV } from '../../../shared/env-names';
import { METRIC, METRICS_NAMESPACE } from '../../../shared/metrics';
import { NAMED_QUERY_NAMES } from '../../../shared/queries';
import { TABLE_KEYS, createTableInput, kclTableDefs, type IndexDef } from '../../../shared/tables';
import { DEAD_LETTER_OBJECT_PREFIX } from '../../../shared/lake-layout';
import { DEFAULTS } from '../../../shared/runtime/deploy-config';
import { kclTableActions, kclTableNames, KCL_KINESIS_ACTIONS } from '../../../infra/kcl';
import { CONSUMER_STOP_TIMEOUT_SECONDS } from '../../../infra/sections/consumer-service';
import { FIREHOSE_ERROR_PREFIX } from '../../../infra/sections/lake';
import { arnText, referencedIds, resources, resourcesOfType, roleStatements, policyStatements, synth, type Json, type Synth } from './template';

let s: Synth;
beforeAll(() => {
  s = synth();
}, 120_000);

const only = (type: string): Json => {
  const all = resourcesOfType(s, type);
  expect(all).toHaveLength(1);
  return all[0]?.Properties ?? {};
};
const logicalIdsOf = (type: string): Set<string> => new Set(resourcesOfType(s, type).map((r) => r.id));

describe('encryption at rest on every store', () => {
  test('the Kinesis stream uses the data CMK', () => {
    const stream = only('AWS::Kinesis::Stream');
    expect(stream.StreamEncryption).toEqual({ EncryptionType: 'KMS', KeyId: { 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] } });
  });

  test('all eight DynamoDB tables (ticks, latest, state, alerts, producer leases and the three of the KCL) are KMS-encrypted with PITR', () => {
    const tables = resourcesOfType(s, 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(8);
    for (const t of tables) {
      expect({ id: t.id, sse: t.Properties.SSESpecification }).toEqual({
        id: t.id,
        sse: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] } },
      });
      expect({ id: t.id, pitr: t.Properties.PointInTimeRecoverySpecification }).toEqual({ id: t.id, pitr: { PointInTimeRecoveryEnabled: true } });
    }
  });

  test('the lake and Athena result buckets use SSE-KMS; the access-log bucket SSE-S3 (log delivery cannot use KMS)', () => {
    const algos = resourcesOfType(s, 'AWS::S3::Bucket').map((b) => {
      const enc = b.Properties.BucketEncryption as { ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { SSEAlgorithm: string } }[] };
      return [b.id.replace(/[A-F0-9]{8}$/, ''), enc.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault.SSEAlgorithm];
    });
    expect(Object.fromEntries(algos)).toEqual({ AccessLogs: 'AES256', Lake: 'aws:kms', AthenaResults: 'aws:kms' });
  });

  test('both SNS topics are KMS-encrypted', () => {
    const topics = resourcesOfType(s, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(2);
    for (const t of topics) expect(t.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^(DataKey|OpsKey)/), 'Arn'] });
  });

  test('the dead-letter queue is KMS-encrypted', () => {
    expect(only('AWS::SQS::Queue').KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] });
  });

  test('Firehose encrypts its buffer (SSE with the CMK) and the objects it writes', () => {
    const fh = only('AWS::KinesisFirehose::DeliveryStream');
    expect(fh.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: { 'Fn::GetAtt': [expect.stringMatching(/^DataKey/), 'Arn'] } });
    expect(fh.ExtendedS3DestinationConfiguration).toMatchObject({
      EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: { 'Fn::GetAtt': [expect.stringMatching(/^DataKey/) as unknown, 'Arn'] } } },
    });
  });

  test('Athena query results are SSE-KMS and the workgroup enforces it', () => {
    s.template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: Match.objectLike({ EncryptionOption: 'SSE_KMS' }) }),
      }),
    });
  });

  test('every KMS key rotates', () => {
    for (const k of resourcesOfType(s, 'AWS::KMS::Key')) expect({ id: k.id, rotation: k.Properties.EnableKeyRotation }).toEqual({ id: k.id, rotation: true });
  });

  test('every bucket, topic and queue refuses plain-HTTP access', () => {
    const denies = (type: string): number =>
      resourcesOfType(s, type).filter((p) => JSON.stringify(p.Properties).includes('"aws:SecureTransport":"false"')).length;
    expect(denies('AWS::S3::BucketPolicy')).toBe(3);
    expect(denies('AWS::SNS::TopicPolicy')).toBe(2);
    expect(denies('AWS::SQS::QueuePolicy')).toBe(1);
  });

  test('the lake bucket blocks public access, is versioned and moves data to Intelligent-Tiering (never to a class Athena skips)', () => {
    const lake = resourcesOfType(s, 'AWS::S3::Bucket').find((b) => b.id.startsWith('Lake'));
    expect(lake?.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    const rules = (lake?.Properties.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ Transitions: [{ StorageClass: 'INTELLIGENT_TIERING', TransitionInDays: 0 }] }));
    // Athena skips Glacier Flexible Retrieval and Deep Archive objects, and
    // Intelligent-Tiering's opt-in archive tiers: a query would lose data silently.
    const classes = rules.flatMap((r) => ((r.Transitions ?? []) as { StorageClass: string }[]).map((t) => t.StorageClass));
    expect(classes.filter((c) => c === 'GLACIER' || c === 'DEEP_ARCHIVE')).toEqual([]);
    expect(lake?.Properties.IntelligentTieringConfigurations).toBeUndefined();
  });
});

describe('IAM least privilege', () => {
  const dataTypes = [
    'AWS::Kinesis::Stream',
    'AWS::DynamoDB::Table',
    'AWS::S3::Bucket',
    'AWS::KMS::Key',
    'AWS::SNS::Topic',
    'AWS::SQS::Queue',
    'AWS::KinesisFirehose::DeliveryStream',
  ];

  test('no statement with a wildcard action touches a data resource (stream, tables, buckets, keys, topics, queue, Firehose)', () => {
    const dataIds = new Set(dataTypes.flatMap((t) => [...logicalIdsOf(t)]));
    const offenders = policyStatements(s)
      .filter((st) => st.actions.some((a) => a.includes('*')))
      .filter((st) => [...referencedIds(st.Resource)].some((id) => dataIds.has(id)) || resources(st).some((r) => r.includes(':dynamodb:')))
      .map((st) => `${st.policy}: ${st.actions.join(',')}`);
    expect(offenders).toEqual([]);
  });

  test('no action is a whole-service wildcard anywhere', () => {
    const all = policyStatements(s).flatMap((st) => st.actions);
    expect(all.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  test('Resource "*" appears only for ecr:GetAuthorizationToken (which has no resource-level permissions)', () => {
    const star = policyStatements(s).filter((st) => resources(st).includes('*'));
    expect([...new Set(star.flatMap((st) => st.actions))]).toEqual(['ecr:GetAuthorizationToken']);
  });

  test('no AWS managed policies are attached to any role but the two of the Lambda functions aws-cdk-lib provides for custom resources', () => {
    // AwsCustomResource (ECS service-linked role) and restrictDefaultSecurityGroup:
    // AWSLambdaBasicExecutionRole, their own logs only (infra/sections/first-deploy.ts).
    const cdkProvided = /^(AWS679f53fac002430cb0da5b7982bd2287ServiceRole|CustomVpcRestrictDefaultSGCustomResourceProviderRole)/;
    const managed = resourcesOfType(s, 'AWS::IAM::Role').filter((r) => r.Properties.ManagedPolicyArns !== undefined);
    expect(managed.map((r) => r.id).filter((id) => !cdkProvided.test(id))).toEqual([]);
    expect(managed).toHaveLength(2);
    for (const r of managed) {
      const arns = r.Properties.ManagedPolicyArns as unknown[];
      expect(arns.map((a) => arnText(a).replace(/^arn:\$\{(AWS::Partition|Ref)\}/, 'arn:aws'))).toEqual(['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']);
    }
  });

  test('the producer may write to the stream but not read it', () => {
    const actions = roleStatements(s, 'ProducerTaskTaskRole').flatMap((st) => st.actions);
    expect(actions).toEqual(expect.arrayContaining(['kinesis:PutRecords']));
    expect(actions).not.toContain('kinesis:GetRecords');
    expect(actions.filter((a) => a.startsWith('sns:') || a.startsWith('firehose:'))).toEqual([]);
  });
});

describe('KCL permissions (consumer task role)', () => {
  const consumer = (): ReturnType<typeof roleStatements> => roleStatements(s, 'ConsumerTaskTaskRole');

  test('the KCL metadata tables named after the application get exactly the KCL table actions', () => {
    const expected = kclTableNames(DEFAULTS.appName).map((t) => `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${t}`);
    expect(expected).toHaveLength(3); // KCL 3.x: lease, WorkerMetricStats, CoordinatorState
    const st = consumer().find((x) => x.actions.includes('dynamodb:DescribeTable'));
    expect(st?.actions.slice().sort()).toEqual(kclTableActions().slice().sort());
    expect(resources(st ?? ({ Resource: [] } as never)).sort()).toEqual([...expected, `${expected[0] ?? ''}/index/*`].sort());
  });

  test('no role may create or alter a table: the stack creates the KCL tables and their GSI (infra/kcl.ts cites the KCL source)', () => {
    const all = policyStatements(s).flatMap((st) => st.actions);
    expect(all.filter((a) => ['dynamodb:CreateTable', 'dynamodb:UpdateTable', 'dynamodb:UpdateContinuousBackups', 'dynamodb:DeleteTable'].includes(a))).toEqual([]);
  });

  test('the stream is readable with the polling actions, including ListShards', () => {
    const st = consumer().find((x) => x.actions.includes('kinesis:GetRecords'));
    expect(st?.actions.slice().sort()).toEqual([...KCL_KINESIS_ACTIONS].sort());
    expect(referencedIds(st?.Resource)).toEqual(logicalIdsOf('AWS::Kinesis::Stream'));
  });

  test('no cloudwatch:PutMetricData: the KCL runs with metricsLevel NONE and the app emits EMF', () => {
    expect(policyStatements(s).flatMap((st) => st.actions)).not.toContain('cloudwatch:PutMetricData');
  });

  test('the consumer may put objects under dead-letters/ of the lake, and nothing else in S3', () => {
    const lake = resourcesOfType(s, 'AWS::S3::Bucket').find((b) => b.id.startsWith('Lake'))?.id ?? '';
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ConsumerTaskTaskRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [lake, 'Arn'] }, `/${DEAD_LETTER_OBJECT_PREFIX}*`]] } },
        ]),
      },
    });
    const s3 = consumer().filter((st) => st.actions.some((a) => a.startsWith('s3:')));
    expect(s3.map((st) => ({ actions: st.actions, resources: resources(st) }))).toEqual([{ actions: ['s3:PutObject'], resources: [`\${${lake}.Arn}/dead-letters/*`] }]);
  });

  test('the consumer is told the lake bucket for oversized dead letters', () => {
    const lake = resourcesOfType(s, 'AWS::S3::Bucket').find((b) => b.id.startsWith('Lake'))?.id ?? '';
    s.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'consumer', Environment: Match.arrayWith([{ Name: ENV.deadLetterBucket, Value: { Ref: lake } }]) })],
    });
  });

  test('the consumer writes its four tables, Firehose, SNS and SQS, and can delete nothing', () => {
    const actions = consumer().flatMap((st) => st.actions);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:BatchWriteItem', 'firehose:PutRecordBatch', 'sns:Publish', 'sqs:SendMessage']));
    const appTables = consumer().find((x) => x.actions.includes('dynamodb:BatchWriteItem'));
    expect(appTables?.actions).not.toContain('dynamodb:DeleteItem');
    expect(referencedIds(appTables?.Resource).size).toBe(4);
  });
});

describe('Firehose to the Parquet lake', () => {
  const dest = (): Json => only('AWS::KinesisFirehose::DeliveryStream').ExtendedS3DestinationConfiguration as Json;

  test('converts OpenX JSON to Parquet (ParquetSerDe) using the Glue table', () => {
    expect(dest().DataFormatConversionConfiguration).toMatchObject({
      Enabled: true,
      InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
      OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
      SchemaConfiguration: { TableName: 'ticks', DatabaseName: 'tickstream', VersionId: 'LATEST' },
    });
  });

  test('buffers at least 64 MiB (Parquet conversion minimum)', () => {
    expect((dest().BufferingHints as { SizeInMBs: number }).SizeInMBs).toBeGreaterThanOrEqual(64);
  });

  test('partitions by the tick date: dt prefix from a jq MetadataExtraction of .dt, after splitting packed rows', () => {
    expect(dest().Prefix).toBe('ticks/dt=!{partitionKeyFromQuery:dt}/');
    expect(dest().DynamicPartitioningConfiguration).toMatchObject({ Enabled: true });
    expect(dest().ProcessingConfiguration).toEqual({
      Enabled: true,
      Processors: [
        { Type: 'RecordDeAggregation', Parameters: [{ ParameterName: 'SubRecordType', ParameterValue: 'JSON' }] },
        {
          Type: 'MetadataExtraction',
          Parameters: [
            { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{dt: .dt}' },
            { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
          ],
        },
      ],
    });
  });

  test('has an error output prefix', () => {
    expect(dest().ErrorOutputPrefix).toBe(FIREHOSE_ERROR_PREFIX);
  });
});

describe('Glue table and Athena', () => {
  const tableInput = (): Json => only('AWS::Glue::Table').TableInput as Json;

  test('columns equal glueColumns() from shared/enriched.ts, in order', () => {
    const sd = tableInput().StorageDescriptor as { Columns: { Name: string; Type: string; Comment: string }[] };
    expect(sd.Columns).toEqual(glueColumns().map((c) => ({ Name: c.name, Type: c.type, Comment: c.comment })));
  });

  test('dt is the only partition key, projected as a yyyy-MM-dd date', () => {
    expect((tableInput().PartitionKeys as Json[]).map((k) => [k.Name, k.Type])).toEqual([['dt', 'string']]);
    expect(tableInput().Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval.unit': 'DAYS',
    });
  });

  test('the dt projection spans exactly the days a valid tick can have, so every stored tick is visible', () => {
    const range = String((tableInput().Parameters as Json)['projection.dt.range']);
    expect(range).toBe('2000-01-01,2099-12-31');
    const [from, to] = range.split(',') as [string, string];
    expect({ from: Date.parse(`${from}T00:00:00Z`), toEnd: Date.parse(`${to}T00:00:00Z`) + 86_400_000 }).toEqual({ from: TICK_BOUNDS.tsMin, toEnd: TICK_BOUNDS.tsMax });
    expect(arnText((tableInput().Parameters as Json)['storage.location.template'])).toMatch(/\/ticks\/dt=\$\{dt\}\/$/);
  });

  test('Parquet input/output formats and SerDe', () => {
    expect(tableInput().StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
  });

  test('the four named queries are registered, with the table substituted', () => {
    const queries = resourcesOfType(s, 'AWS::Athena::NamedQuery');
    expect(queries.map((q) => q.Properties.Name).sort()).toEqual([...NAMED_QUERY_NAMES].sort());
    for (const q of queries) {
      expect(q.Properties.QueryString).not.toContain('{{table}}');
      expect(q.Properties.QueryString).toContain('"tickstream"."ticks"');
    }
  });
});

describe('DynamoDB keys', () => {
  const keysOf = (prefix: string): unknown => resourcesOfType(s, 'AWS::DynamoDB::Table').find((t) => t.id.startsWith(prefix))?.Properties.KeySchema;

  test('ticks is (symbol, ts) with TTL on expires_at', () => {
    expect(keysOf('TicksTable')).toEqual([
      { AttributeName: 'symbol', KeyType: 'HASH' },
      { AttributeName: 'ts', KeyType: 'RANGE' },
    ]);
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true } });
  });

  test('latest and state by symbol, alerts by alert_id', () => {
    expect(keysOf('LatestTable')).toEqual([{ AttributeName: 'symbol', KeyType: 'HASH' }]);
    expect(keysOf('StateTable')).toEqual([{ AttributeName: 'symbol', KeyType: 'HASH' }]);
    expect(keysOf('AlertsTable')).toEqual([{ AttributeName: 'alert_id', KeyType: 'HASH' }]);
  });

  test('every table matches its key definition in shared/tables.ts (names and S/N types)', () => {
    const ids: Record<keyof typeof TABLE_KEYS, string> = { ticks: 'TicksTable', latest: 'LatestTable', state: 'StateTable', alerts: 'AlertsTable', producerLeases: 'ProducerLeasesTable' };
    for (const [kind, prefix] of Object.entries(ids) as [keyof typeof TABLE_KEYS, string][]) {
      const t = resourcesOfType(s, 'AWS::DynamoDB::Table').find((x) => x.id.startsWith(prefix));
      const k: { partitionKey: { name: string; type: string }; sortKey?: { name: string; type: string }; index?: IndexDef } = TABLE_KEYS[kind];
      const want = [k.partitionKey, ...(k.sortKey === undefined ? [] : [k.sortKey]), ...(k.index === undefined ? [] : [k.index.partitionKey, k.index.sortKey])];
      expect({ kind, attrs: t?.Properties.AttributeDefinitions }).toEqual({ kind, attrs: want.map((a) => ({ AttributeName: a.name, AttributeType: a.type })) });
    }
  });

  test("alerts has the dashboard's by_day index exactly as the emulators get it (pinned in test/unit/shared/tables.test.ts)", () => {
    const t = resourcesOfType(s, 'AWS::DynamoDB::Table').find((x) => x.id.startsWith('AlertsTable'));
    expect(t?.Properties.GlobalSecondaryIndexes).toEqual(createTableInput('alerts', 'any').GlobalSecondaryIndexes);
    expect(t?.Properties.GlobalSecondaryIndexes).toHaveLength(1);
  });
});

describe('KCL tables', () => {
  test('are created by the stack with the names, keys and GSI the KCL expects (shared/tables.ts)', () => {
    const defs = kclTableDefs(DEFAULTS.appName);
    expect(defs.map((d) => d.name)).toEqual(kclTableNames(DEFAULTS.appName));
    for (const d of defs) {
      const t = resourcesOfType(s, 'AWS::DynamoDB::Table').find((x) => x.Properties.TableName === d.name);
      expect({ name: d.name, keys: t?.Properties.KeySchema }).toEqual({ name: d.name, keys: [{ AttributeName: d.partitionKey.name, KeyType: 'HASH' }] });
      const gsis = (t?.Properties.GlobalSecondaryIndexes ?? []) as { IndexName: string; KeySchema: unknown; Projection: unknown }[];
      expect({ name: d.name, gsis }).toEqual({
        name: d.name,
        gsis: d.gsi
          ? [
              {
                IndexName: d.gsi.name,
                KeySchema: [
                  { AttributeName: d.gsi.partitionKey, KeyType: 'HASH' },
                  { AttributeName: d.gsi.sortKey, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'KEYS_ONLY' },
              },
            ]
          : [],
      });
    }
  });
});

describe('alarms, logs and dashboard', () => {
  const alarmMetrics = (): string[] => resourcesOfType(s, 'AWS::CloudWatch::Alarm').map((a) => String(a.Properties.MetricName));

  test.each([
    ['iterator age', 'GetRecords.IteratorAgeMilliseconds'],
    ['DLQ depth', 'ApproximateNumberOfMessagesVisible'],
    ['consumer errors', METRIC.consumerErrors],
    ['Firehose delivery failures', 'DeliveryToS3.Success'],
    ['Firehose conversion failures', 'FailedConversion.Records'],
    ['producer source failures', METRIC.sourceFailures],
  ])('an alarm on %s (%s) notifies the ops topic', (_what, metric) => {
    const alarm = resourcesOfType(s, 'AWS::CloudWatch::Alarm').find((a) => a.Properties.MetricName === metric && Array.isArray(a.Properties.AlarmActions) && JSON.stringify(a.Properties.AlarmActions).includes('OpsTopic'));
    expect(alarm).toBeDefined();
    expect(alarmMetrics()).toContain(metric);
  });

  test('app alarms read the EMF namespace the app writes to', () => {
    const app = resourcesOfType(s, 'AWS::CloudWatch::Alarm').filter((a) => a.Properties.MetricName === METRIC.consumerErrors);
    expect(app.map((a) => a.Properties.Namespace)).toEqual([METRICS_NAMESPACE]);
  });

  test('every log group has the configured retention', () => {
    const groups = resourcesOfType(s, 'AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const g of groups) expect({ id: g.id, days: g.Properties.RetentionInDays }).toEqual({ id: g.id, days: DEFAULTS.logRetentionDays });
  });

  test('both containers log through awslogs into a group of this stack', () => {
    const groups = logicalIdsOf('AWS::Logs::LogGroup');
    for (const td of resourcesOfType(s, 'AWS::ECS::TaskDefinition')) {
      const [c] = td.Properties.ContainerDefinitions as { LogConfiguration: { LogDriver: string; Options: Json } }[];
      expect(c?.LogConfiguration.LogDriver).toBe('awslogs');
      expect([...referencedIds(c?.LogConfiguration.Options['awslogs-group'])].every((id) => groups.has(id))).toBe(true);
    }
  });

  test('a dashboard shows ticks/s, lag, signals and errors', () => {
    const body = JSON.stringify(only('AWS::CloudWatch::Dashboard').DashboardBody);
    for (const title of ['Ticks per second', 'Lag (ms)', 'Signals and alerts', 'Errors']) expect(body).toContain(title);
  });
});

describe('compute', () => {
  const services = (): ReturnType<typeof resourcesOfType> => resourcesOfType(s, 'AWS::ECS::Service');
  const containerOf = (prefix: string): Json => {
    const td = resourcesOfType(s, 'AWS::ECS::TaskDefinition').find((t) => t.id.startsWith(prefix));
    return (td?.Properties.ContainerDefinitions as Json[])[0] ?? {};
  };
  const env = (prefix: string): Record<string, unknown> =>
    Object.fromEntries((containerOf(prefix).Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));

  test('both Fargate services run in private subnets without public IPs', () => {
    const privateSubnets = new Set(
      resourcesOfType(s, 'AWS::EC2::Subnet')
        .filter((sn) => JSON.stringify(sn.Properties.Tags).includes('"Value":"Private"'))
        .map((sn) => sn.id),
    );
    expect(privateSubnets.size).toBe(2);
    expect(services()).toHaveLength(2);
    for (const svc of services()) {
      const net = (svc.Properties.NetworkConfiguration as { AwsvpcConfiguration: { AssignPublicIp: string; Subnets: unknown } }).AwsvpcConfiguration;
      expect(svc.Properties.LaunchType).toBe('FARGATE');
      expect(net.AssignPublicIp).toBe('DISABLED');
      expect(referencedIds(net.Subnets)).toEqual(privateSubnets);
    }
  });

  test('the consumer stop timeout covers its final checkpoint (Fargate maximum, 120 s)', () => {
    expect(containerOf('ConsumerTask').StopTimeout).toBe(CONSUMER_STOP_TIMEOUT_SECONDS);
    expect(CONSUMER_STOP_TIMEOUT_SECONDS).toBe(120);
  });

  test('tasks run in AWS mode with env names from shared/env-names.ts and no emulator endpoints', () => {
    const known = new Set<string>(Object.values(ENV));
    for (const prefix of ['ProducerTask', 'ConsumerTask']) {
      const e = env(prefix);
      expect(e[ENV.mode]).toBe('aws');
      expect(Object.keys(e).filter((k) => !known.has(k))).toEqual([]);
      for (const k of [ENV.awsEndpoint, ENV.kinesisEndpoint, ENV.dynamodbEndpoint]) expect(e[k]).toBeUndefined();
      expect(JSON.stringify(e)).not.toMatch(/localhost|127\.0\.0\.1/);
    }
    expect(env('ConsumerTask')[ENV.appName]).toBe(DEFAULTS.appName);
    expect(env('ProducerTask')[ENV.symbols]).toBe(DEFAULTS.symbols.join(','));
  });

  test('the consumer autoscales on CPU and iterator age, up to the shard count', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: DEFAULTS.shards });
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }),
    });
    const stepAlarms = resourcesOfType(s, 'AWS::CloudWatch::Alarm').filter(
      (a) => a.Properties.MetricName === 'GetRecords.IteratorAgeMilliseconds' && JSON.stringify(a.Properties.AlarmActions).includes('IteratorAge'),
    );
    // Scale-out only: a scale-in step on a low iterator age fought the CPU target tracking (issue 12).
    expect(stepAlarms.map((a) => a.Properties.ComparisonOperator)).toEqual(['GreaterThanOrEqualToThreshold']);
  });

  test('the consumer service leaves its task count to autoscaling (a fixed DesiredCount would reset it on every deploy)', () => {
    const td = resourcesOfType(s, 'AWS::ECS::TaskDefinition').find((t) => t.id.startsWith('ConsumerTask'))?.id ?? '';
    const consumer = services().find((svc) => referencedIds(svc.Properties.TaskDefinition).has(td));
    expect(consumer).toBeDefined();
    expect(consumer?.Properties.DesiredCount).toBeUndefined();
  });

  test('the producer task count is the configured parameter', () => {
    const producer = services().find((svc) => referencedIds(svc.Properties.TaskDefinition).has(resourcesOfType(s, 'AWS::ECS::TaskDefinition').find((t) => t.id.startsWith('ProducerTask'))?.id ?? ''));
    expect(producer?.Properties.DesiredCount).toBe(DEFAULTS.producerTasks);
  });

  test('images are built from the two Dockerfiles as assets (no registry lookups at synth)', () => {
    const images = resourcesOfType(s, 'AWS::ECS::TaskDefinition').map((t) => arnText(((t.Properties.ContainerDefinitions as Json[])[0] ?? {}).Image));
    expect(images).toHaveLength(2);
    for (const i of images) expect(i).toContain('cdk-hnb659fds-container-assets');
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('reports zero unacknowledged findings', () => {
    const report = new AwsSolutionsChecks().validateScope(s.app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('every acknowledgment carries a reason; the set of acknowledged rules is the reviewed one', () => {
    const acks: { id: string; reason: string }[] = [];
    const walk = (c: IConstruct): void => {
      for (const m of c.node.metadata) {
        if (m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(m.data as Record<string, unknown>)) acks.push({ id: id.replace(/^annotation::/i, ''), reason: String(reason) });
        }
      }
      c.node.children.forEach(walk);
    };
    walk(s.app);
    const ours = acks.filter((a) => a.id.startsWith('AwsSolutions-'));
    for (const a of ours) expect({ id: a.id, reasonLength: a.reason.length > 40 }).toEqual({ id: a.id, reasonLength: true });
    const byRule: Record<string, number> = {};
    for (const a of ours) {
      const rule = a.id.replace(/\[.*$/, '');
      byRule[rule] = (byRule[rule] ?? 0) + 1;
    }
    expect(byRule).toEqual({ 'AwsSolutions-KDS3': 1, 'AwsSolutions-IAM5': 6, 'AwsSolutions-SQS3': 1, 'AwsSolutions-ECS2': 2, 'AwsSolutions-IAM4': 1 });
  });
});
