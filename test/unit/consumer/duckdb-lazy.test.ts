import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

const PROBE = path.join(__dirname, 'helpers', 'duckdb-probe.ts');

function probe(env: Record<string, string>): { mode: string; duckdb: string[]; rssMiB: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', PROBE], {
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as { mode: string; duckdb: string[]; rssMiB: number };
}

describe('DuckDB is loaded only where it is used', () => {
  test('AWS mode (Firehose archive): a record processor never loads DuckDB', () => {
    const r = probe({
      TICKSTREAM_MODE: 'aws',
      TICKSTREAM_ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:t',
      TICKSTREAM_DLQ_URL: 'http://127.0.0.1:1/q',
      TICKSTREAM_DLQ_BUCKET: 'b',
      TICKSTREAM_FIREHOSE_STREAM: 'f',
    });
    expect(r.mode).toBe('aws');
    expect(r.duckdb).toEqual([]);
    process.stderr.write(`aws-mode processor RSS after building its ports: ${r.rssMiB} MiB\n`);
  }, 90_000);

  test('local mode (the Parquet lake): it does, so the probe can tell', () => {
    const r = probe({ TICKSTREAM_MODE: 'local', TICKSTREAM_DATA_DIR: path.join(os.tmpdir(), `duckdb-probe-${process.pid}`) });
    expect(r.mode).toBe('local');
    expect(r.duckdb.length).toBeGreaterThan(0);
    process.stderr.write(`local-mode processor RSS after building its ports: ${r.rssMiB} MiB\n`);
  }, 90_000);
});
