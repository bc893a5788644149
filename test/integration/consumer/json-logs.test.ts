import fs from 'node:fs';
import path from 'node:path';
import { startPipeline, type Pipeline } from '../../../local/pipeline';
import { KCL_DAEMON_SERVICE } from '../../../consumer/kcl/logback';
import { closeDuckdb } from '../../../shared/parquet';
import { encodeTick, type Tick } from '../../../shared/tick';
import { ENV } from '../../../shared/env-names';
import { putInOrder } from '../../helpers/pipeline-data';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir, waitFor } from '../../helpers/wait';

type LogLine = Record<string, unknown>;

/** A worker log's lines: parsed JSON, or the raw text of a line that is not. */
function readLog(file: string): { json: LogLine[]; other: string[] } {
  const json: LogLine[] = [];
  const other: string[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) json.push(v as LogLine);
      else other.push(line);
    } catch {
      other.push(line);
    }
  }
  return { json, other };
}

/** The README's one filter: CloudWatch `{ $.level = "error" }`, jq `select(.level == "error")`. */
const isError = (l: LogLine): boolean => l.level === 'error';

/**
 * One worker's log holds the KCL daemon's lines (logback, through
 * logstash-logback-encoder) and its record processors' (winston) lines
 * interleaved. Both are JSON of one shape, so one filter on `level` finds the
 * errors of both: here a record processor that dies on a record (its own
 * last line, and the daemon's lines about the death, in Java) and, after the
 * restart, the processor's error as it quarantines the shard.
 */
describe('the consumer log is JSON lines that one filter searches', () => {
  let p: Pipeline;
  const dir = tmpDir('json-logs');
  const runDir = path.join(dir, 'run');

  beforeAll(async () => {
    p = await startPipeline({
      shards: 1,
      workers: 1,
      dataDir: path.join(dir, 'data'),
      runDir,
      checkpointEveryMs: 1000,
      shutdownGraceMillis: 2000,
      workerEnv: { [ENV.faultCrashMarker]: '"symbol":"ZZCRASH"', [ENV.quarantineAfter]: '1' },
    });
  });
  afterAll(async () => {
    await p?.stop();
    await closeDuckdb();
  });

  it('finds the daemon error and the record processor error with the same level filter', async () => {
    const good = await syntheticTicks(testSymbols(2), 5);
    const killer: Tick = { ...good[4]!, symbol: 'ZZCRASH' };
    await putInOrder(p.stack.kinesis, p.streamName, [...good, killer].map((t) => ({ partitionKey: t.symbol, data: encodeTick(t) })));
    const logFile = path.join(runDir, 'worker-1.log');

    const errors = await waitFor(
      'an error line from the daemon and one from a record processor',
      () => {
        const e = readLog(logFile).json.filter(isError);
        const daemon = e.filter((l) => l.service === KCL_DAEMON_SERVICE);
        const processor = e.filter((l) => l.service === 'tickstream-consumer');
        const quarantined = processor.some((l) => String(l.message).startsWith('shard restarted repeatedly'));
        return Promise.resolve(daemon.length > 0 && quarantined ? { daemon, processor } : undefined);
      },
      180_000,
      500,
    );

    const log = readLog(logFile);
    expect({ notJson: log.other }).toEqual({ notJson: [] });
    // one case for the levels of both languages
    expect([...new Set(log.json.map((l) => l.level))].filter((l) => typeof l !== 'string' || l !== l.toLowerCase())).toEqual([]);
    const daemonLines = log.json.filter((l) => l.service === KCL_DAEMON_SERVICE);
    for (const l of daemonLines) {
      expect({ keys: ['timestamp', 'level', 'message', 'logger', 'thread'].filter((k) => typeof l[k] !== 'string') }).toEqual({ keys: [] });
    }
    expect(errors.daemon.map((l) => `${String(l.logger)} ${String(l.message)}`).join('\n')).toMatch(/MultiLang|Child process|record processor/i);
    // the shard is on the daemon's lines where the KCL's message names it
    expect(daemonLines.some((l) => l.shardId === 'shardId-000000000000')).toBe(true);
    const processorErrors = errors.processor.map((l) => ({ message: l.message, shardId: l.shardId }));
    // the processor's death (Node's own trace otherwise), then its quarantine after the restart
    expect(processorErrors).toContainEqual({ message: 'record processor died: uncaught exception', shardId: 'shardId-000000000000' });
    expect(processorErrors).toContainEqual({ message: 'shard restarted repeatedly at the same checkpoint: quarantine, processing record by record', shardId: 'shardId-000000000000' });
  });
});
