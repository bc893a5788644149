/**
 * A stand-in for one shard's record processor, run as a child process by
 * test/integration/consumer/lake-failover.test.ts: it feeds the lake sink the
 * known input's rows of its symbols from `from`, flushing every `every` rows
 * and "checkpointing" one flush behind (so the checkpoint lags the lake, as
 * when a worker dies between the lake flush and the KCL checkpoint).
 *
 * argv: dataDir workerId shardId symbolsCsv from every
 * stdout: "checkpoint <next index>" lines, then "done".
 */
import { LakeSink } from '../../../../consumer/sinks/lake-sink';
import { closeDuckdb } from '../../../../shared/parquet';
import { knownInput } from '../factories';

async function main(): Promise<void> {
  const [dataDir, workerId, shardId, symbolsCsv, fromArg, everyArg] = process.argv.slice(2);
  if (!dataDir || !workerId || !shardId || !symbolsCsv || !fromArg || !everyArg) throw new Error('usage: dataDir workerId shardId symbols from every');
  const symbols = new Set(symbolsCsv.split(','));
  const rows = knownInput({ perSymbol: 300, seed: 11 }).filter((r) => symbols.has(r.symbol));
  const every = Number(everyArg);
  const sink = new LakeSink({ dataDir, workerId, shardId, flushIntervalMs: 0 });
  let previousEnd: number | undefined;
  for (let i = Number(fromArg); i < rows.length; i += every) {
    await sink.write(rows.slice(i, i + every));
    await sink.flush();
    // The checkpoint covers only up to the previous flush: the lake is always
    // at least one flush ahead of it, so a resumed writer re-sends those rows.
    if (previousEnd !== undefined) process.stdout.write(`checkpoint ${previousEnd}\n`);
    previousEnd = Math.min(rows.length, i + every);
  }
  await sink.close();
  await closeDuckdb();
  process.stdout.write('done\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
