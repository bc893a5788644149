import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProducerConfig } from '../../../producer/config';
import { ConfigError } from '../../../shared/config-util';
import { ENV } from '../../../shared/env-names';

const base = { [ENV.streamName]: 'ticks', [ENV.region]: 'eu-west-1', [ENV.symbols]: 'AAPL, msft,GOOG' };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadProducerConfig', () => {
  it('reads a minimal environment with defaults, frozen', () => {
    const c = loadProducerConfig(base);
    expect(c.source).toBe('synthetic');
    expect(c.symbols).toEqual(['AAPL', 'MSFT', 'GOOG']);
    expect(c.yahoo.pollIntervalMs).toBe(30_000);
    expect(c.writer).toEqual({ maxRecordsPerBatch: 500, maxBytesPerBatch: 5 * 1024 * 1024, maxInFlight: 4, maxRetries: 10 });
    expect(c.scaleOut).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.writer)).toBe(true);
    expect(Object.isFrozen(c.symbols)).toBe(true);
  });

  it('reads symbols from a file with comments', () => {
    const dir = mkdtempSync(join(tmpdir(), 'producer-config-'));
    const file = join(dir, 'symbols.txt');
    writeFileSync(file, '# universe\nAAPL\nMSFT # software\n\nBRK-B\n');
    const c = loadProducerConfig({ ...base, [ENV.symbols]: undefined, [ENV.symbolsFile]: file });
    expect(c.symbols).toEqual(['AAPL', 'MSFT', 'BRK-B']);
  });

  it('lets command-line flags override the environment', () => {
    const c = loadProducerConfig({ ...base, [ENV.source]: 'yahoo' }, ['--source', 'replay', '--csv', 'a.csv', '--csv', 'b.csv', '--speed', '60x', '--loop']);
    expect(c.source).toBe('replay');
    expect(c.replay).toMatchObject({ csvFiles: ['a.csv', 'b.csv'], speed: 60, loop: true });
    expect(loadProducerConfig(base, ['--source', 'replay', '--csv', 'a.csv', '--speed', 'max']).replay.speed).toBe(Infinity);
  });

  it('uses the local endpoint and a default region for emulators', () => {
    const c = loadProducerConfig({ ...base, [ENV.region]: undefined, [ENV.awsEndpoint]: 'http://127.0.0.1:4567' });
    expect(c).toMatchObject({ region: 'us-east-1', kinesisEndpoint: 'http://127.0.0.1:4567', dynamodbEndpoint: 'http://127.0.0.1:4567' });
  });

  it('enables scale-out when a lease table is set', () => {
    const c = loadProducerConfig({ ...base, [ENV.producerLeaseTable]: 'leases', [ENV.producerGroups]: '8' });
    expect(c.scaleOut).toEqual({ leaseTable: 'leases', groups: 8, leaseDurationMs: 20_000, heartbeatMs: 5_000 });
  });

  it.each([
    [{ [ENV.streamName]: undefined }, ENV.streamName],
    [{ [ENV.region]: 'nowhere' }, ENV.region],
    [{ [ENV.symbols]: 'AAPL,not a symbol!' }, ENV.symbols],
    [{ [ENV.symbols]: undefined }, ENV.symbols],
    [{ [ENV.source]: 'bloomberg' }, ENV.source],
    [{ [ENV.pollIntervalMs]: '5s' }, ENV.pollIntervalMs],
    [{ [ENV.producerBatchRecords]: '501' }, ENV.producerBatchRecords],
    [{ [ENV.producerBatchBytes]: String(6 * 1024 * 1024) }, ENV.producerBatchBytes],
    [{ [ENV.yahooBatchSize]: '250' }, ENV.yahooBatchSize],
    [{ [ENV.kinesisEndpoint]: 'localhost:4567' }, ENV.kinesisEndpoint],
    [{ [ENV.replayLoop]: 'maybe', [ENV.source]: 'replay', [ENV.replayCsv]: 'x.csv' }, ENV.replayLoop],
    [{ [ENV.source]: 'replay' }, ENV.replayCsv],
    [{ [ENV.producerLeaseTable]: 't', [ENV.producerLeaseMs]: '4000', [ENV.producerHeartbeatMs]: '3000' }, ENV.producerHeartbeatMs],
    [{ [ENV.symbolsFile]: '/nonexistent/symbols.txt', [ENV.symbols]: undefined }, ENV.symbolsFile],
  ])('rejects %p naming %s', (override, variable) => {
    const err = configError(() => loadProducerConfig({ ...base, ...override }));
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: expected `)).toBe(true);
  });

  it('names the flag when a bad value came from the command line', () => {
    expect(configError(() => loadProducerConfig(base, ['--speed=-3'])).variable).toBe('--speed');
    expect(configError(() => loadProducerConfig(base, ['--source', 'nope'])).variable).toBe('--source');
  });
});

describe('loadProducerConfig command line', () => {
  it('rejects unknown flags with a ConfigError listing the known ones', () => {
    const err = configError(() => loadProducerConfig(base, ['--sauce', 'yahoo']));
    expect(err.variable).toBe('command line');
    expect(err.message).toContain('--source');
  });
});
