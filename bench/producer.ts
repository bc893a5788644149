/**
 * npm run bench:producer — prints one JSON object:
 * - writer_loopback_records_per_sec: KinesisWriter → a loopback HTTP server
 *   that answers every PutRecords with success (measures the writer itself:
 *   encoding, batching, the one-record-per-symbol bookkeeping, HTTP, SDK)
 * - writer_kinesis_local_records_per_sec: KinesisWriter → kinesis-local on
 *   fresh shards (measures the emulator more than the writer)
 * - yahoo_symbols_per_sec: YahooSource polls against the fake Yahoo fetch
 *   (batching, validation, mapping, dedupe; no network)
 *
 * Loopback only; the logger writes warnings to stderr, the result to stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startKinesisLocal } from '../local/emulators';
import { LOCAL_REGION, createStream } from '../local/stack';
import { KinesisWriter } from '../producer/kinesis-writer';
import { SyntheticSource } from '../producer/sources/synthetic';
import { YahooSource } from '../producer/sources/yahoo';
import { kinesisClient } from '../shared/aws';
import { createLogger } from '../shared/logger';
import type { Tick } from '../shared/tick';
import { FakeYahoo, symbolUniverse } from '../local/fake-yahoo';

const logger = createLogger({ service: 'bench-producer', level: 'warn' });

async function synthetic(symbols: number, total: number): Promise<Tick[]> {
  const startTs = Date.UTC(2026, 0, 5, 14, 30);
  const src = new SyntheticSource({ symbols: symbolUniverse(symbols), seed: 1, ratePerSec: Infinity, maxTicks: total, startTs, now: () => startTs });
  const out: Tick[] = [];
  for await (const b of src.ticks(new AbortController().signal)) out.push(...b);
  return out;
}

async function drive(writer: KinesisWriter, ticks: readonly Tick[]): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ticks.length; i += 1_000) await writer.enqueue(ticks.slice(i, i + 1_000));
  await writer.flush();
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  return Math.round(ticks.length / secs);
}

/** A Kinesis stand-in that accepts everything. */
async function acceptAllSink(): Promise<{ endpoint: string; close: () => Promise<void>; records: () => number }> {
  let records = 0;
  let seq = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records?: unknown[] };
      const n = body.Records?.length ?? 0;
      records += n;
      const out = JSON.stringify({ FailedRecordCount: 0, Records: Array.from({ length: n }, () => ({ SequenceNumber: String(++seq), ShardId: 'shardId-000000000000' })) });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(out) });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records: () => records,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function benchLoopback(symbols: number, maxTicksPerRecord?: number, total = 200_000): Promise<{ rps: number; records: number; kinesisRecords: number }> {
  const ticks = await synthetic(symbols, total);
  const sink = await acceptAllSink();
  const client = kinesisClient({ region: LOCAL_REGION, endpoint: sink.endpoint });
  try {
    const writer = new KinesisWriter(client, { streamName: 'bench', logger, maxInFlight: 8, ...(maxTicksPerRecord === undefined ? {} : { maxTicksPerRecord }) });
    const rps = await drive(writer, ticks);
    // a record may be an aggregate of one symbol's ticks (shared/tick.ts)
    if (writer.stats.recordsSent !== ticks.length || sink.records() !== writer.stats.kinesisRecords) {
      throw new Error(`sink got ${sink.records()} records; writer acknowledged ${writer.stats.recordsSent} of ${ticks.length} ticks in ${writer.stats.kinesisRecords} records`);
    }
    return { rps, records: ticks.length, kinesisRecords: writer.stats.kinesisRecords };
  } finally {
    client.destroy();
    await sink.close();
  }
}

async function benchKinesisLocal(): Promise<{ rps: number; records: number; shards: number }> {
  const shards = 16;
  const records = 10_000;
  const emulator = await startKinesisLocal({ logDir: fs.mkdtempSync(path.join(os.tmpdir(), 'tickstream-bench-producer-')) });
  const client = kinesisClient({ region: LOCAL_REGION, endpoint: emulator.endpoint });
  try {
    await createStream(client, 'bench', shards);
    const ticks = await synthetic(500, records);
    const writer = new KinesisWriter(client, { streamName: 'bench', logger, maxInFlight: 4 });
    return { rps: await drive(writer, ticks), records, shards };
  } finally {
    client.destroy();
    await emulator.stop();
  }
}

async function benchYahoo(): Promise<{ symbolsPerSec: number; symbols: number; polls: number }> {
  const symbols = symbolUniverse(5_000);
  const yahoo = new FakeYahoo(symbols);
  const source = new YahooSource({ symbols, logger, fetch: yahoo.fetch, concurrency: 4 });
  const signal = new AbortController().signal;
  await source.poll(signal); // handshake and warm-up
  const polls = 10;
  const started = process.hrtime.bigint();
  let ticks = 0;
  for (let i = 0; i < polls; i++) {
    yahoo.advance(symbols);
    ticks += (await source.poll(signal)).length;
  }
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  if (ticks !== symbols.length * polls) throw new Error(`expected ${symbols.length * polls} ticks, got ${ticks}`);
  return { symbolsPerSec: Math.round((symbols.length * polls) / secs), symbols: symbols.length, polls };
}

async function main(): Promise<void> {
  const loop = await benchLoopback(2_000);
  // the same 200,000 ticks, one tick per record (the writer before aggregation)
  const single = await benchLoopback(2_000, 1);
  // one symbol: where the one-unacknowledged-record-per-symbol rule bites
  // (20,000 ticks: one tick per round trip makes 200,000 take minutes)
  const oneSym = await benchLoopback(1, undefined, 20_000);
  const oneSymSingle = await benchLoopback(1, 1, 20_000);
  const yahoo = await benchYahoo();
  const local = await benchKinesisLocal();
  const result = {
    writer_loopback_records_per_sec: loop.rps,
    writer_loopback_records: loop.records,
    writer_loopback_kinesis_records: loop.kinesisRecords,
    writer_loopback_one_tick_per_record_per_sec: single.rps,
    writer_loopback_one_symbol_records_per_sec: oneSym.rps,
    writer_loopback_one_symbol_one_tick_per_record_per_sec: oneSymSingle.rps,
    writer_kinesis_local_records_per_sec: local.rps,
    writer_kinesis_local_records: local.records,
    writer_kinesis_local_shards: local.shards,
    yahoo_symbols_per_sec: yahoo.symbolsPerSec,
    yahoo_universe: yahoo.symbols,
    yahoo_polls: yahoo.polls,
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  logger.error('bench failed', { errorMessage: (err as Error).message });
  process.exitCode = 1;
});
