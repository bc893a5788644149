/**
 * The MultiLangDaemon properties the consumer container would generate in
 * AWS mode, built from the environment infra/ actually puts on the consumer
 * task definition: a valid KCL multilang config with no emulator endpoints.
 *
 * Token values in the template (Ref, Fn::GetAtt, Fn::Join) are resolved to
 * realistic stand-ins, since the real names only exist after deployment.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadConsumerConfig } from '../../../consumer/config';
import {
  buildDaemonProperties,
  daemonPropertiesFromEnv,
  DISPATCH_POLL_KEY,
  formatProperties,
  LEADER_LOCK_DEFAULTS,
  LEADER_LOCK_KEYS,
  leaderLockFromEnv,
  localIdleTimeBetweenReads,
  localVarianceBalancingFrequency,
  parseProperties,
  type DaemonProperties,
} from '../../../consumer/kcl/properties';
import { configError } from '../../helpers/config';
import { ENV } from '../../../shared/env-names';
import { DEFAULTS } from '../../../shared/runtime/deploy-config';
import { KCL_PUBLISHES_METRICS, kclTableNames } from '../../../infra/kcl';
import { resourcesOfType, synth, type Json } from './template';

const PSEUDO: Record<string, string> = {
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};

function resolve(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as Json;
  if (typeof o.Ref === 'string') return PSEUDO[o.Ref] ?? `Tickstream-${o.Ref}-1A2B3C`;
  const ga = o['Fn::GetAtt'];
  if (Array.isArray(ga)) return `arn:aws:svc:eu-west-1:123456789012:${String(ga[0])}`;
  const join = o['Fn::Join'];
  if (Array.isArray(join)) {
    const [sep, parts] = join as [string, unknown[]];
    return parts.map(resolve).join(sep);
  }
  throw new Error(`cannot resolve ${JSON.stringify(v)}`);
}

const root = path.join(__dirname, '../../..');
let env: Record<string, string>;
let props: DaemonProperties;
let text: string;

beforeAll(() => {
  const s = synth();
  const td = resourcesOfType(s, 'AWS::ECS::TaskDefinition').find((t) => t.id.startsWith('ConsumerTask'));
  const [container] = (td?.Properties.ContainerDefinitions ?? []) as { Environment: { Name: string; Value: unknown }[] }[];
  env = Object.fromEntries((container?.Environment ?? []).map((e) => [e.Name, resolve(e.Value)]));
  const cfg = loadConsumerConfig(env);
  if (cfg.mode !== 'aws') throw new Error(`the consumer task's environment must load in aws mode, got ${cfg.mode}`);
  // exactly what the container entrypoint (consumer/daemon.ts) generates
  props = daemonPropertiesFromEnv(env, 'node /app/dist/consumer/main.js', 'ip-10-0-1-23.ec2.internal');
  text = formatProperties(props);
}, 120_000);

test('the task environment loads as an AWS-mode consumer config with no endpoints', () => {
  const cfg = loadConsumerConfig(env);
  expect(cfg.mode).toBe('aws');
  expect(cfg.dynamodbEndpoint).toBeUndefined();
  expect(cfg.awsEndpoint).toBeUndefined();
  expect(cfg.region).toBe('eu-west-1');
  expect(cfg.aws).toBeDefined();
});

test('carries every key the MultiLangDaemon requires', () => {
  const parsed = parseProperties(text);
  for (const key of ['executableName', 'streamName', 'applicationName', 'regionName', 'initialPositionInStream', 'AwsCredentialsProvider']) {
    expect({ key, value: parsed[key] ?? '' }).toEqual({ key, value: expect.stringMatching(/\S/) as unknown });
  }
  expect(parsed.initialPositionInStream).toMatch(/^(TRIM_HORIZON|LATEST)$/);
  expect(parsed.regionName).toBe('eu-west-1');
});

test('names the stream infra created and the application the KCL table grants are for', () => {
  expect(props.streamName).toBe(env[ENV.streamName]);
  expect(props.applicationName).toBe(DEFAULTS.appName);
  expect(kclTableNames(DEFAULTS.appName)[0]).toBe(props.applicationName);
});

test('has no emulator endpoint keys and no loopback address anywhere', () => {
  expect(Object.keys(props)).not.toEqual(expect.arrayContaining(['kinesisEndpoint']));
  expect(Object.keys(props)).not.toEqual(expect.arrayContaining(['dynamoDBEndpoint']));
  expect(text).not.toMatch(/localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0/);
  expect(JSON.stringify(env)).not.toMatch(/localhost|127\.0\.0\.1/);
});

test('matches the IAM the stack grants: polling retrieval, and no KCL CloudWatch metrics unless granted', () => {
  expect(props.retrievalMode).toBe('POLLING'); // no SubscribeToShard / consumer ARNs in the role
  // The consumer role has cloudwatch:PutMetricData only when KCL_PUBLISHES_METRICS is set.
  expect({ kclPublishes: KCL_PUBLISHES_METRICS, metricsLevel: props.metricsLevel }).toEqual({ kclPublishes: false, metricsLevel: 'NONE' });
});

test('the executable the daemon starts per shard is built from a source file that exists', () => {
  const js = /node\s+\/app\/(\S+)\.js/.exec(props.executableName ?? '')?.[1];
  expect(js).toBe('dist/consumer/main');
  expect(existsSync(path.join(root, `${(js ?? '').replace(/^dist\//, '')}.ts`))).toBe(true);
});

test('round-trips through the .properties text format', () => {
  expect(parseProperties(text)).toEqual(props);
});

test('sets the KCL leader lock for our launcher: 20 s lease, 5 s heartbeat by default in AWS', () => {
  expect(env[ENV.kclLeaderLeaseMs]).toBeUndefined();
  expect(env[ENV.kclLeaderHeartbeatMs]).toBeUndefined();
  expect({ lease: props[LEADER_LOCK_KEYS.leaseMs], heartbeat: props[LEADER_LOCK_KEYS.heartbeatMs] }).toEqual({ lease: '20000', heartbeat: '5000' });
  expect(LEADER_LOCK_KEYS).toEqual({ leaseMs: 'tickstreamLeaderLockLeaseDurationMillis', heartbeatMs: 'tickstreamLeaderLockHeartbeatPeriodMillis' });
});

describe('KCL leader lock settings', () => {
  const base = { streamName: 's', applicationName: 'a', executableName: 'node main.js', region: 'eu-west-1' };
  const lockOf = (p: DaemonProperties): [string | undefined, string | undefined] => [p[LEADER_LOCK_KEYS.leaseMs], p[LEADER_LOCK_KEYS.heartbeatMs]];
  const fromEnv = (vars: Record<string, string>): DaemonProperties =>
    daemonPropertiesFromEnv({ [ENV.streamName]: 's', [ENV.appName]: 'a', [ENV.region]: 'eu-west-1', ...vars }, 'node main.js', 'host');

  test('defaults: 20 s / 5 s in AWS, 10 s / 2 s on the emulators (fastStart)', () => {
    expect(lockOf(buildDaemonProperties(base))).toEqual(['20000', '5000']);
    expect(lockOf(buildDaemonProperties({ ...base, fastStart: true }))).toEqual(['10000', '2000']);
    expect(LEADER_LOCK_DEFAULTS).toEqual({ aws: { leaseMs: 20_000, heartbeatMs: 5000 }, local: { leaseMs: 10_000, heartbeatMs: 2000 } });
  });

  test('the shard consumer dispatch poll is shortened on the emulators only; production keeps KCL\'s 1000 ms', () => {
    expect(buildDaemonProperties({ ...base, fastStart: true })[DISPATCH_POLL_KEY]).toBe('200');
    expect(buildDaemonProperties(base)[DISPATCH_POLL_KEY]).toBeUndefined();
    expect(fromEnv({})[DISPATCH_POLL_KEY]).toBeUndefined();
  });

  test('utilization balancing keeps production\'s 60 s cadence on the emulators, where the assignment pass runs every second', () => {
    const local = buildDaemonProperties({ ...base, fastStart: true });
    // 60 passes × 1 s = 3 passes × 2 × 10 s failover, KCL's cadence in production
    expect(local.varianceBalancingFrequency).toBe('60');
    expect(Number(local.varianceBalancingFrequency) * Number(local.leaseAssignmentIntervalMillis)).toBe(3 * 2 * Number(local.failoverTimeMillis));
    expect(buildDaemonProperties({ ...base, fastStart: true, failoverTimeMillis: 3000 }).varianceBalancingFrequency).toBe('18');
    expect(buildDaemonProperties(base).varianceBalancingFrequency).toBeUndefined();
    // never more often than KCL's own default
    expect(localVarianceBalancingFrequency(100, 1000)).toBe(3);
  });

  test('the local poll interval keeps the one emulator near 20 GetRecords/s whatever the shard count', () => {
    // 200 ms up to 4 shards: the fast default of the tests and npm start
    expect([1, 2, 4].map(localIdleTimeBetweenReads)).toEqual([200, 200, 200]);
    expect(localIdleTimeBetweenReads(8)).toBe(400);
    expect(localIdleTimeBetweenReads(16)).toBe(800);
    for (const shards of [4, 8, 12, 16, 20]) expect((shards * 1000) / localIdleTimeBetweenReads(shards)).toBeLessThanOrEqual(20);
    // capped: a shard is never polled less than once a second
    expect(localIdleTimeBetweenReads(64)).toBe(1000);
    expect(localIdleTimeBetweenReads(0)).toBe(200);
  });

  test('an explicit lock wins over the defaults; one the lock client would refuse is an error', () => {
    expect(lockOf(buildDaemonProperties({ ...base, fastStart: true, leaderLock: { leaseMs: 30_000, heartbeatMs: 10_000 } }))).toEqual(['30000', '10000']);
    expect(() => buildDaemonProperties({ ...base, leaderLock: { leaseMs: 10_000, heartbeatMs: 4000 } })).toThrow(/at most a third of the lease/);
    expect(() => buildDaemonProperties({ ...base, leaderLock: { leaseMs: 10_000, heartbeatMs: 0 } })).toThrow(/positive whole milliseconds/);
    expect(() => buildDaemonProperties({ ...base, leaderLock: { leaseMs: 10_000.5, heartbeatMs: 2000 } })).toThrow(/positive whole milliseconds/);
  });

  test('TICKSTREAM_KCL_LEADER_LEASE_MS and _HEARTBEAT_MS override them, read once into the properties', () => {
    expect(ENV.kclLeaderLeaseMs).toBe('TICKSTREAM_KCL_LEADER_LEASE_MS');
    expect(ENV.kclLeaderHeartbeatMs).toBe('TICKSTREAM_KCL_LEADER_HEARTBEAT_MS');
    expect(lockOf(fromEnv({ [ENV.kclLeaderLeaseMs]: '45000', [ENV.kclLeaderHeartbeatMs]: '15000' }))).toEqual(['45000', '15000']);
    expect(lockOf(fromEnv({ [ENV.kclLeaderLeaseMs]: '60000' }))).toEqual(['60000', '5000']);
    expect(leaderLockFromEnv({ [ENV.kclLeaderHeartbeatMs]: '1000' }, LEADER_LOCK_DEFAULTS.local)).toEqual({ leaseMs: 10_000, heartbeatMs: 1000 });
  });

  test('a bad value stops with the variable named', () => {
    expect(configError(() => fromEnv({ [ENV.kclLeaderLeaseMs]: '20s' }))).toMatchObject({ variable: ENV.kclLeaderLeaseMs, expected: 'an integer in [3000, 600000]', actual: '20s' });
    expect(configError(() => fromEnv({ [ENV.kclLeaderLeaseMs]: '1000' }))).toMatchObject({ variable: ENV.kclLeaderLeaseMs });
    expect(configError(() => fromEnv({ [ENV.kclLeaderHeartbeatMs]: '0' }))).toMatchObject({ variable: ENV.kclLeaderHeartbeatMs });
    // the default 20 s lease allows a heartbeat up to 6666 ms
    expect(lockOf(fromEnv({ [ENV.kclLeaderHeartbeatMs]: '6666' }))).toEqual(['20000', '6666']);
    const e = configError(() => fromEnv({ [ENV.kclLeaderHeartbeatMs]: '6667' }));
    expect(e.variable).toBe(ENV.kclLeaderHeartbeatMs);
    expect(e.message).toMatch(/^TICKSTREAM_KCL_LEADER_HEARTBEAT_MS: expected at most a third of TICKSTREAM_KCL_LEADER_LEASE_MS \(20000\), i\.e\. <= 6666.*got 6667$/);
  });
});
