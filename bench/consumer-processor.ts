/**
 * Consumer figures that need the real record-processor process:
 * - the processor alone, fed through the multilang protocol by a driver, with
 *   sinks that acknowledge at once (TICKSTREAM_MODE=null);
 * - end to end on the local stack (kinesis-local, dynalite, the real KCL
 *   daemon, DynamoDB + lake sinks) at a stated producer rate.
 */
import path from 'node:path';
import { MultilangDriver, type DriverRecord } from '../local/multilang-driver';
import { processorCommand, startPipeline } from '../local/pipeline';
import { percentile } from '../local/status-server';
import { KinesisWriter } from '../producer/kinesis-writer';
import { SyntheticSource } from '../producer/sources/synthetic';
import { ENV } from '../shared/env-names';
import { sleep } from '../shared/runtime/sleep';
import { encodeTick, type Tick } from '../shared/tick';
import os from 'node:os';
import fs from 'node:fs';

const log = (m: string): void => void process.stderr.write(`bench:consumer: ${m}\n`);

async function synthetic(symbols: number, n: number, seed: number): Promise<Tick[]> {
  const names = Array.from({ length: symbols }, (_, i) => `B${i}`);
  const start = Date.UTC(2025, 0, 6, 14, 30);
  const src = new SyntheticSource({ symbols: names, seed, ratePerSec: Number.POSITIVE_INFINITY, maxTicks: n, startTs: start, now: () => start });
  const out: Tick[] = [];
  for await (const b of src.ticks(new AbortController().signal)) out.push(...b);
  return out;
}

export async function benchProcessorProtocol(n = 200_000, batch = 1000): Promise<Record<string, number | string>> {
  const ticks = await synthetic(1000, n, 3);
  const records: DriverRecord[] = ticks.map((t, i) => ({ data: encodeTick(t).toString('base64'), partitionKey: t.symbol, sequenceNumber: String(10_000 + i) }));
  const [cmd, ...args] = processorCommand().split(' ');
  const driver = new MultilangDriver(cmd!, args, {
    ...process.env,
    [ENV.mode]: 'null',
    [ENV.checkpointEveryRecords]: '10000',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  await driver.initialize('shardId-000000000000');
  // warm-up: JIT and the symbols' first sight
  const warm = Math.min(20_000, Math.floor(n / 5));
  for (let i = 0; i < warm; i += batch) await driver.processRecords(records.slice(i, Math.min(warm, i + batch)));
  const t0 = performance.now();
  for (let i = warm; i < n; i += batch) await driver.processRecords(records.slice(i, Math.min(n, i + batch)));
  const s = (performance.now() - t0) / 1000;
  await driver.shutdownRequested();
  await driver.end();
  if (driver.strayLines.length > 0) throw new Error(`processor wrote non-protocol stdout: ${driver.strayLines[0]}`);
  return { multilang_processor_ticks_per_s: Math.round((n - warm) / s), multilang_processor_batch: batch, multilang_processor_ticks: n - warm };
}

export async function benchEndToEnd(rate = 500, seconds = 30, shards = 4): Promise<Record<string, number | string>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickstream-bench-e2e-'));
  const p = await startPipeline({ shards, workers: 1, dataDir: path.join(dir, 'data'), runDir: path.join(dir, 'run') });
  try {
    const writer = new KinesisWriter(p.stack.kinesis, { streamName: p.streamName });
    // One warm-up tick per symbol, so the clock starts with the KCL workers
    // already holding their leases (their start-up is reported by npm start).
    const symbols = Array.from({ length: 50 }, (_, i) => `E${i}`);
    const abort = new AbortController();
    const warm = new SyntheticSource({ symbols, seed: 1, ratePerSec: Number.POSITIVE_INFINITY, maxTicks: symbols.length });
    for await (const b of warm.ticks(abort.signal)) await writer.write(b);
    log('waiting for the KCL worker to take its leases…');
    const deadline = Date.now() + 120_000;
    while (p.status.totals.applied < symbols.length && Date.now() < deadline) await sleep(200);
    if (p.status.totals.applied < symbols.length) throw new Error('consumer never started');
    p.status.totals.latenciesMs.length = 0;
    const before = p.status.totals.applied;
    log(`producing ${rate} ticks/s for ${seconds} s`);
    const src = new SyntheticSource({ symbols, seed: 2, ratePerSec: rate, maxTicks: rate * seconds, startTs: Date.now() + 1000 });
    const t0 = Date.now();
    let produced = 0;
    for await (const b of src.ticks(abort.signal)) {
      await writer.write(b);
      produced += b.length;
    }
    const produceS = (Date.now() - t0) / 1000;
    while (p.status.totals.applied - before < produced && Date.now() - t0 < seconds * 1000 + 60_000) await sleep(100);
    const consumeS = (Date.now() - t0) / 1000;
    const lat = p.status.totals.latenciesMs;
    return {
      e2e_rate_target_ticks_per_s: rate,
      e2e_produced_ticks_per_s: Math.round(produced / produceS),
      e2e_consumed_ticks_per_s: Math.round((p.status.totals.applied - before) / consumeS),
      e2e_latency_p50_ms: percentile(lat, 50) ?? -1,
      e2e_latency_p99_ms: percentile(lat, 99) ?? -1,
      e2e_latency_samples: lat.length,
      e2e_shards: shards,
    };
  } finally {
    await p.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
