import { DEFAULTS, loadInfraConfig } from '../../../shared/runtime/deploy-config';
import { ConfigError } from '../../../shared/runtime/config';
import { resourcesOfType, synth, type Synth } from './template';

const from = (ctx: Record<string, unknown>) => loadInfraConfig((k) => ctx[k]);

describe('loadInfraConfig', () => {
  test('defaults when the context is empty', () => {
    const c = from({});
    expect(c).toMatchObject({ appName: 'tickstream', shards: DEFAULTS.shards, maxConsumerTasks: DEFAULTS.shards, streamMode: 'provisioned', alertEmail: undefined });
    expect(Object.isFrozen(c)).toBe(true);
  });

  test('`cdk -c` strings are parsed: symbols list, numbers', () => {
    const c = from({ symbols: ' aapl, MSFT,aapl ', shards: '4', intervalMs: '1000', producerTasks: '2', retentionDays: '14' });
    expect(c.symbols).toEqual(['AAPL', 'MSFT']);
    expect(c).toMatchObject({ shards: 4, maxConsumerTasks: 4, pollIntervalMs: 1000, producerTasks: 2, logRetentionDays: 14 });
  });

  test.each([
    [{ shards: '0' }, 'shards'],
    [{ shards: 'two' }, 'shards'],
    [{ shards: '-2' }, 'shards'],
    [{ shards: '1e1' }, 'shards'],
    [{ shards: 2.5 }, 'shards'],
    [{ retentionDays: 10 }, 'retentionDays'],
    [{ alertEmail: 'not-an-address' }, 'alertEmail'],
    [{ symbols: 'AAPL,$$$' }, 'symbols'],
    [{ appName: 'Tick_Stream' }, 'appName'],
    [{ streamMode: 'serverless' }, 'streamMode'],
    [{ shards: 2, maxConsumerTasks: 3 }, 'maxConsumerTasks'],
    // A task would refuse these at start: synth refuses them first (issue 12).
    [{ intervalMs: 999 }, 'intervalMs'],
    [{ intervalMs: '250' }, 'intervalMs'],
    [{ source: 'replay' }, 'source'],
    [{ budgetUsdPerMonth: '0' }, 'budgetUsdPerMonth'],
    [{ silenceAlarmMinutes: '12' }, 'silenceAlarmMinutes'],
  ])('rejects %j naming the context key and the value', (ctx, key) => {
    let err: unknown;
    try {
      from(ctx);
    } catch (e) {
      err = e;
    }
    // The project's one ConfigError: anything that reports config errors handles this one too.
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(`context "${key}"`);
    expect((err as ConfigError).message).toContain(JSON.stringify(ctx[key as keyof typeof ctx]));
  });

  test('on-demand streams take maxConsumerTasks as the autoscaling ceiling', () => {
    expect(from({ streamMode: 'on-demand', maxConsumerTasks: '8' }).maxConsumerTasks).toBe(8);
  });
});

describe('an on-demand stack with an alert e-mail', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({ streamMode: 'on-demand', maxConsumerTasks: 6, alertEmail: 'ops@example.com', producerTasks: 3, retentionDays: 90 });
  }, 120_000);

  test('the stream is on-demand (no shard count)', () => {
    const [stream] = resourcesOfType(s, 'AWS::Kinesis::Stream');
    expect(stream?.Properties.StreamModeDetails).toEqual({ StreamMode: 'ON_DEMAND' });
    expect(stream?.Properties.ShardCount).toBeUndefined();
  });

  test('both topics get the e-mail subscription', () => {
    const subs = resourcesOfType(s, 'AWS::SNS::Subscription');
    expect(subs.map((x) => [x.Properties.Protocol, x.Properties.Endpoint])).toEqual([
      ['email', 'ops@example.com'],
      ['email', 'ops@example.com'],
    ]);
  });

  test('context drives the consumer ceiling, the producer count and log retention', () => {
    s.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MaxCapacity: 6 });
    s.template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 3 });
    for (const g of resourcesOfType(s, 'AWS::Logs::LogGroup')) expect(g.Properties.RetentionInDays).toBe(90);
  });
});
