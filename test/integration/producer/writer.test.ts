import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { startKinesisLocal, type Emulator } from '../../../local/emulators';
import { LOCAL_REGION, createStream } from '../../../local/stack';
import { KinesisWriter } from '../../../producer/kinesis-writer';
import { kinesisClient } from '../../../shared/aws';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir } from '../../helpers/wait';
import { captureLogs } from '../../unit/producer/helpers';
import { startFailureProxy } from './kinesis-proxy';
import { checkReadBack, readAll } from './read-back';

describe('KinesisWriter against kinesis-local', () => {
  let emulator: Emulator;
  let kinesis: KinesisClient;
  const dir = tmpDir('producer-writer');

  beforeAll(async () => {
    emulator = await startKinesisLocal({ logDir: dir });
    kinesis = kinesisClient({ region: LOCAL_REGION, endpoint: emulator.endpoint });
  }, 60_000);
  afterAll(async () => {
    kinesis?.destroy();
    await emulator?.stop();
  });

  it('writes 50,000 synthetic ticks: read back per shard with zero loss and per-symbol order', async () => {
    // kinesis-local slows down as a shard fills, so spread over 16 fresh shards
    await createStream(kinesis, 'producer-50k', 16);
    const ticks = await syntheticTicks(testSymbols(500), 100);
    expect(ticks).toHaveLength(50_000);
    const writer = new KinesisWriter(kinesis, { streamName: 'producer-50k', logger: captureLogs('warn').logger, maxInFlight: 4 });
    const started = Date.now();
    for (let i = 0; i < ticks.length; i += 1_000) await writer.enqueue(ticks.slice(i, i + 1_000));
    await writer.flush();
    const secs = (Date.now() - started) / 1000;
    expect(writer.stats.recordsSent).toBe(50_000);
    const perShard = await readAll(kinesis, 'producer-50k');
    const counts = Object.fromEntries([...perShard].map(([s, l]) => [s, l.length]));
    process.stderr.write(`${JSON.stringify({ test: '50k', recordsPerSec: Math.round(50_000 / secs), perShard: counts })}\n`);
    expect(Object.values(counts).filter((n) => n > 0).length).toBeGreaterThan(8);
    checkReadBack(perShard, ticks);
  });

  it.each([
    ['one tick per record', 1, 100],
    ['aggregated records', 500, 10],
  ])('retries injected partial failures (%s): zero loss and no duplicates of the entries that succeeded', async (_name, maxTicksPerRecord, minFailures) => {
    const stream = `producer-partial-${maxTicksPerRecord}`;
    await createStream(kinesis, stream, 4);
    // ~1 in 9 entries fails, on first attempts and retries alike
    const proxy = await startFailureProxy(emulator.endpoint, (call, i) => (call * 31 + i * 7) % 9 === 0);
    const viaProxy = kinesisClient({ region: LOCAL_REGION, endpoint: proxy.endpoint });
    try {
      const ticks = await syntheticTicks(testSymbols(200), 25);
      const logs = captureLogs('warn');
      const writer = new KinesisWriter(viaProxy, { streamName: stream, logger: logs.logger, maxTicksPerRecord, maxAttempts: 30, backoff: { baseMs: 5, maxMs: 50 } });
      await writer.write(ticks);
      expect(proxy.failed).toBeGreaterThan(minFailures);
      expect(writer.stats.retriedRecords).toBe(proxy.failed);
      expect(writer.stats.recordsSent).toBe(ticks.length);
      checkReadBack(await readAll(kinesis, stream), ticks);
      const retryLine = logs.lines().find((l) => l.message === 'PutRecords entries failed, retrying them');
      expect(retryLine?.errorCodes).toHaveProperty('ProvisionedThroughputExceededException');
    } finally {
      viaProxy.destroy();
      await proxy.close();
    }
  });
});
