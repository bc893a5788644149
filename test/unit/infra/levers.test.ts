/**
 * The cost levers (README, "Levers") as the template has them: each context
 * key the cost model prices must really change the stack.
 */
import { ENV } from '../../../shared/env-names';
import { consumerTaskSize, FIREHOSE_PACK_BYTES, loadInfraConfig } from '../../../shared/runtime/deploy-config';
import { referencedIds, resourcesOfType, synth, type Json, type Synth } from './template';

type Env = { Name: string; Value: unknown }[];
const taskDef = (s: Synth, prefix: string): Json => resourcesOfType(s, 'AWS::ECS::TaskDefinition').find((r) => r.id.startsWith(prefix))?.Properties ?? {};
const envOf = (s: Synth, prefix: string): Record<string, unknown> => {
  const [c] = taskDef(s, prefix).ContainerDefinitions as { Environment: Env }[];
  return Object.fromEntries((c?.Environment ?? []).map((e) => [e.Name, e.Value]));
};
const service = (s: Synth, prefix: string): Json => resourcesOfType(s, 'AWS::ECS::Service').find((r) => r.id.startsWith(prefix))?.Properties ?? {};
const arch = (s: Synth, prefix: string): unknown => (taskDef(s, prefix).RuntimePlatform as Json | undefined)?.CpuArchitecture;

let def: Synth;
let lean: Synth;
beforeAll(() => {
  def = synth();
  lean = synth({ profile: 'lean' });
}, 240_000);

describe('the default stack', () => {
  test('private subnets behind one NAT gateway, no public IPs on tasks', () => {
    expect(resourcesOfType(def, 'AWS::EC2::NatGateway')).toHaveLength(1);
    for (const p of ['Producer', 'Consumer']) expect((service(def, p).NetworkConfiguration as Json).AwsvpcConfiguration).toMatchObject({ AssignPublicIp: 'DISABLED' });
  });

  test('on-demand Fargate x86_64, Container Insights on, the ticks table and its env', () => {
    expect(service(def, 'ConsumerService').LaunchType).toBe('FARGATE');
    expect(service(def, 'ConsumerService').CapacityProviderStrategy).toBeUndefined();
    expect([arch(def, 'Producer'), arch(def, 'Consumer')]).toEqual(['X86_64', 'X86_64']);
    expect(resourcesOfType(def, 'AWS::ECS::Cluster')[0]?.Properties.ClusterSettings).toEqual([{ Name: 'containerInsights', Value: 'enabled' }]);
    expect(resourcesOfType(def, 'AWS::DynamoDB::Table').some((t) => t.id.startsWith('TicksTable'))).toBe(true);
    expect(envOf(def, 'Consumer')[ENV.ticksTable]).toEqual({ Ref: expect.stringMatching(/^TicksTable/) as unknown });
    expect(envOf(def, 'Consumer')[ENV.ticksHistory]).toBeUndefined();
  });

  test('the consumer is told the checkpoint cadence and the Firehose packing', () => {
    expect(envOf(def, 'Consumer')).toMatchObject({ [ENV.checkpointEveryMs]: '30000', [ENV.firehoseRecordBytes]: String(FIREHOSE_PACK_BYTES) });
    expect(envOf(synth({ firehosePack: 'false', checkpointMs: '90000' }), 'Consumer')).toMatchObject({ [ENV.checkpointEveryMs]: '90000', [ENV.firehoseRecordBytes]: '0' });
  }, 120_000);

  test('one producer task runs without group leases; more share them through the lease table', () => {
    expect(envOf(def, 'Producer')[ENV.producerLeaseTable]).toBeUndefined();
    expect(envOf(synth({ producerTasks: '2' }), 'Producer')[ENV.producerLeaseTable]).toEqual({ Ref: expect.stringMatching(/^ProducerLeasesTable/) as unknown });
  }, 120_000);

  test('the consumer task is sized from the leases one worker may hold', () => {
    const size = consumerTaskSize(loadInfraConfig(() => undefined));
    expect(taskDef(def, 'Consumer')).toMatchObject({ Cpu: String(size.cpu), Memory: String(size.memoryMiB) });
  });

  test('the consumer has a health check that runs the stuck-worker check, and the daemon gets maxLeasesForWorker and a fixed heap', () => {
    const [c] = taskDef(def, 'Consumer').ContainerDefinitions as { HealthCheck: Json }[];
    expect(c?.HealthCheck).toEqual({ Command: ['CMD', 'node', '/app/dist/consumer/health.js'], Interval: 30, Timeout: 10, Retries: 3, StartPeriod: 120 });
    const size = consumerTaskSize(loadInfraConfig(() => undefined));
    expect(envOf(def, 'Consumer')).toMatchObject({
      [ENV.heartbeatDir]: '/tmp/tickstream-heartbeats',
      [ENV.healthStaleMs]: '90000',
      [ENV.kclMaxLeasesForWorker]: String(size.maxLeasesForWorker),
      [ENV.jvmHeapMiB]: String(size.jvmHeapMiB),
    });
    // every shard finds a worker at the autoscaling floor
    expect(size.maxLeasesForWorker * loadInfraConfig(() => undefined).minConsumerTasks).toBeGreaterThanOrEqual(loadInfraConfig(() => undefined).shards);
  });

  test('more leases per worker, more memory: 16 shards on one task need more than 2 on one', () => {
    const cfg = (shards: number) => loadInfraConfig((k) => ({ shards: String(shards) })[k]);
    expect(consumerTaskSize(cfg(16)).memoryMiB).toBeGreaterThan(consumerTaskSize(cfg(2)).memoryMiB);
    expect(consumerTaskSize(loadInfraConfig((k) => ({ shards: '8', minConsumerTasks: '4' })[k])).maxLeasesForWorker).toBe(2);
  });

  test('autoscaling on iterator age only scales out: no scale-in step to fight the CPU target', () => {
    const steps = resourcesOfType(def, 'AWS::ApplicationAutoScaling::ScalingPolicy')
      .map((p) => p.Properties.StepScalingPolicyConfiguration as { StepAdjustments: { ScalingAdjustment: number }[] } | undefined)
      .filter((c) => c !== undefined)
      .flatMap((c) => c.StepAdjustments.map((a) => a.ScalingAdjustment));
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((n) => n > 0)).toBe(true);
  });
});

describe('the lean profile', () => {
  test('no NAT gateway: tasks in public subnets with public IPs, and no inbound rule on their security groups', () => {
    expect(resourcesOfType(lean, 'AWS::EC2::NatGateway')).toHaveLength(0);
    expect(resourcesOfType(lean, 'AWS::EC2::Subnet').every((s) => s.Properties.MapPublicIpOnLaunch === true)).toBe(true);
    for (const p of ['Producer', 'Consumer']) expect((service(lean, p).NetworkConfiguration as Json).AwsvpcConfiguration).toMatchObject({ AssignPublicIp: 'ENABLED' });
    for (const sg of resourcesOfType(lean, 'AWS::EC2::SecurityGroup')) expect({ id: sg.id, ingress: sg.Properties.SecurityGroupIngress }).toEqual({ id: sg.id, ingress: undefined });
    expect(resourcesOfType(lean, 'AWS::EC2::SecurityGroupIngress')).toHaveLength(0);
  });

  test('both services on Fargate Spot (x86_64: Spot has no ARM64), the cluster associated with it', () => {
    for (const p of ['ProducerService', 'ConsumerService']) expect(service(lean, p).CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }]);
    expect(resourcesOfType(lean, 'AWS::ECS::ClusterCapacityProviderAssociations')[0]?.Properties.CapacityProviders).toEqual(['FARGATE', 'FARGATE_SPOT']);
    expect([arch(lean, 'Producer'), arch(lean, 'Consumer')]).toEqual(['X86_64', 'X86_64']);
  });

  test('one shard, a half-vCPU consumer, a minute between checkpoints', () => {
    expect(resourcesOfType(lean, 'AWS::Kinesis::Stream')[0]?.Properties.ShardCount).toBe(1);
    expect(taskDef(lean, 'Consumer')).toMatchObject({ Cpu: '512', Memory: '1024' });
    expect(envOf(lean, 'Consumer')[ENV.checkpointEveryMs]).toBe('60000');
  });

  test('no ticks table: the consumer is told not to write one, and gets no grant on it', () => {
    expect(resourcesOfType(lean, 'AWS::DynamoDB::Table').some((t) => t.id.startsWith('TicksTable'))).toBe(false);
    expect(envOf(lean, 'Consumer')).toMatchObject({ [ENV.ticksHistory]: 'false' });
    expect(envOf(lean, 'Consumer')[ENV.ticksTable]).toBeUndefined();
    expect([...referencedIds(lean.json)].filter((id) => id.startsWith('TicksTable'))).toEqual([]);
  });

  test('Container Insights off', () => {
    expect(resourcesOfType(lean, 'AWS::ECS::Cluster')[0]?.Properties.ClusterSettings).toEqual([{ Name: 'containerInsights', Value: 'disabled' }]);
  });

  test('an explicit key wins over the profile', () => {
    const cfg = loadInfraConfig((k) => ({ profile: 'lean', natGateways: '1', shards: '3' })[k]);
    expect(cfg).toMatchObject({ profile: 'lean', natGateways: 1, shards: 3, consumerSpot: true });
  });
});

describe('ARM64', () => {
  test('every task not on Spot runs on ARM64 with an arm64 image', () => {
    const s = synth({ arm64: 'true' });
    expect([arch(s, 'Producer'), arch(s, 'Consumer')]).toEqual(['ARM64', 'ARM64']);
    const mixed = synth({ arm64: 'true', consumerSpot: 'true' });
    expect([arch(mixed, 'Producer'), arch(mixed, 'Consumer')]).toEqual(['ARM64', 'X86_64']);
  }, 240_000);
});
