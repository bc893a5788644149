import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBTimestampValue } from '@duckdb/node-api';
import { ENRICHED_COLUMNS, duckdbType } from '../../../shared/enriched';
import { closeDuckdb, duckdb, writeEnrichedParquet } from '../../../shared/parquet';
import { knownInput, tick } from './factories';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-parquet-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  await closeDuckdb();
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const conn = await (await duckdb()).connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjects();
  } finally {
    conn.closeSync();
  }
}

describe('writeEnrichedParquet', () => {
  it('writes the ENRICHED_COLUMNS schema, in order, with DuckDB types and no dt column', async () => {
    const file = path.join(dir, 'a.parquet');
    await writeEnrichedParquet([tick()], file);
    const cols = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
    expect(cols.map((c) => [c.column_name, c.column_type])).toEqual(ENRICHED_COLUMNS.map((c) => [c.name, duckdbType(c.type)]));
  });

  it('round-trips every value, nulls and epoch-ms timestamps included', async () => {
    const rows = [tick(), tick({ ts: Date.UTC(2024, 2, 2, 0, 0, 0, 123), signal: 'SELL', sma20: 99.25, market_state: null, tick_change_pct: null, anomaly: true })];
    const file = path.join(dir, 'b.parquet');
    await writeEnrichedParquet(rows, file);
    const back = await query(`SELECT * FROM read_parquet('${file}') ORDER BY ts`);
    expect(back).toHaveLength(2);
    back.forEach((got, i) => {
      const want = rows[i] as unknown as Record<string, unknown>;
      for (const c of ENRICHED_COLUMNS) {
        const v = got[c.name];
        const normalised = v instanceof DuckDBTimestampValue ? Number(v.micros / 1000n) : v;
        expect({ column: c.name, value: normalised }).toEqual({ column: c.name, value: want[c.name] });
      }
    });
  });

  it('compresses with Snappy', async () => {
    const file = path.join(dir, 'c.parquet');
    await writeEnrichedParquet(knownInput({ perSymbol: 50 }), file);
    const codecs = await query(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    expect(codecs.map((c) => c.compression)).toEqual(['SNAPPY']);
  });

  it('leaves only the final file: the temp file is renamed, not copied', async () => {
    const file = path.join(dir, 'nested', 'dt=2024-03-01', 'd.parquet');
    await writeEnrichedParquet(knownInput({ perSymbol: 3000 }), file);
    expect(await readdir(path.dirname(file))).toEqual(['d.parquet']);
    const [n] = await query(`SELECT count(*)::INTEGER AS n FROM read_parquet('${file}')`);
    expect(n?.n).toBe(15000);
  });

  it('writes several files concurrently through the one DuckDB instance', async () => {
    const input = knownInput({ perSymbol: 200 });
    await Promise.all([0, 1, 2, 3].map((k) => writeEnrichedParquet(input.slice(k * 250, (k + 1) * 250), path.join(dir, `p${k}.parquet`))));
    const [n] = await query(`SELECT count(*)::INTEGER AS n, count(DISTINCT (symbol, ts))::INTEGER AS d FROM read_parquet('${dir}/p*.parquet')`);
    expect(n).toEqual({ n: 1000, d: 1000 });
  });

  it('rejects and leaves no temp file when the target directory cannot be written', async () => {
    const blocker = path.join(dir, 'file');
    await writeEnrichedParquet([tick()], blocker); // a file where a directory is expected
    await expect(writeEnrichedParquet([tick()], path.join(blocker, 'x.parquet'))).rejects.toThrow();
    expect(await readdir(dir)).toEqual(['file']);
  });
});
