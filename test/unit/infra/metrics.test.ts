import { emfLine, METRIC, METRIC_UNITS, METRICS_NAMESPACE, SERVICE_DIMENSION } from '../../../shared/metrics';

describe('emfLine (Embedded Metric Format)', () => {
  test('declares each metric with its unit under the Tickstream namespace and the Service dimension', () => {
    const line = emfLine({ TicksProcessed: 42, MillisBehindLatest: 800 }, { Service: 'consumer' }, 1_700_000_000_000);
    expect(line).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [[SERVICE_DIMENSION]],
            Metrics: [
              { Name: 'TicksProcessed', Unit: 'Count' },
              { Name: 'MillisBehindLatest', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Service: 'consumer',
      TicksProcessed: 42,
      MillisBehindLatest: 800,
    });
  });

  test('the object survives JSON (it is logged as one line)', () => {
    const line = emfLine({ SourceFailures: 1 }, { Service: 'producer' }, 1);
    expect(JSON.parse(JSON.stringify(line))).toEqual(line);
  });

  test('non-finite values are left out rather than published as garbage', () => {
    const line = emfLine({ TicksProcessed: Number.NaN, DeadLetters: 2 }, { Service: 'consumer' }, 1);
    expect(line._aws.CloudWatchMetrics[0]?.Metrics.map((m) => m.Name)).toEqual(['DeadLetters']);
    expect(line).not.toHaveProperty('TicksProcessed');
  });

  test('extra dimensions add a second dimension set, keeping the Service-only aggregate', () => {
    const line = emfLine({ TicksProcessed: 1 }, { Service: 'consumer', ShardId: 'shardId-000000000001' }, 1);
    expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['Service'], ['Service', 'ShardId']]);
    expect(line.ShardId).toBe('shardId-000000000001');
  });

  test('every metric name has a unit', () => {
    expect(Object.keys(METRIC_UNITS).sort()).toEqual(Object.values(METRIC).sort());
  });
});
