import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpDir } from '../../helpers/wait';

const MAIN = path.resolve(__dirname, '../../../dist/local/main.js');

/** `npm start`'s summary line `  key   value` → value (JSON where it is JSON). */
function summary(stdout: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const at = stdout.indexOf('tickstream summary');
  for (const line of stdout.slice(at).split('\n')) {
    const m = /^ {2}(\w+)\s{2,}(.*)$/.exec(line);
    if (m === null) continue;
    try {
      out[m[1]!] = JSON.parse(m[2]!);
    } catch {
      out[m[1]!] = m[2];
    }
  }
  return out;
}

/**
 * `npm start -- --source replay --csv <file> --speed max` on bars that mix
 * good ones with one beyond each bound of the tick contract: it ends by
 * itself, exit 0, every good bar stored, every bad one refused by the
 * producer and counted in the summary with its reason.
 */
describe('npm start: a replay with values beyond every bound', () => {
  it('stores every good bar, refuses and names every bad one, and exits 0', async () => {
    const dir = tmpDir('npm-start-replay');
    const t0 = Date.UTC(2024, 0, 2, 14, 30);
    const at = (i: number, s = 0): string => new Date(t0 + i * 60_000 + s * 1000).toISOString().replace('T', ' ').slice(0, 19);
    const lines = ['timestamp,open,high,low,close,volume'];
    const bad: Record<number, string> = {
      20: `${at(20, 30)},10,10,10,1e130,100`, // a price DynamoDB cannot hold
      40: '9000000000000000,10,10,10,10,100', // a time Date cannot print
      60: '1999-12-31 23:59:00,10,10,10,10,100', // before the lake's first day
      80: `${at(80, 30)},10,10,10,1e-131,100`, // a price below DynamoDB's range
      100: `${at(100, 30)},10,10,10,10,1e16`, // volume past its ceiling
      120: '2100-01-01 00:00:00,10,10,10,10,100', // the first excluded day
      140: `${at(140, 30)},10,10,10,2e12,100`, // a price past its ceiling
    };
    for (let i = 0; i < 200; i++) {
      lines.push(`${at(i)},10,10.5,9.5,${(10 + Math.sin(i / 7)).toFixed(3)},${100 + i}`);
      if (bad[i] !== undefined) lines.push(bad[i]!);
    }
    const csv = path.join(dir, 'MIX.csv');
    writeFileSync(csv, lines.join('\n') + '\n');

    const proc = spawn(process.execPath, [MAIN, '--source', 'replay', '--csv', csv, '--speed', 'max', '--data', path.join(dir, 'data')], {
      env: { ...process.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', () => undefined);
    const code = await new Promise<number | null>((resolve) => proc.on('exit', (c) => resolve(c)));

    const s = summary(stdout);
    expect({ code, result: s.result }).toEqual({ code: 0, result: expect.stringMatching(/^OK: every produced tick was stored, no errors; 7 tick\(s\) refused by the producer/) as unknown });
    expect({ produced: s.produced, consumed: s.consumed, rows: s.dynamodb_tick_rows, deadLetters: s.dead_letters, errors: s.errors }).toEqual({ produced: 200, consumed: 200, rows: 200, deadLetters: 0, errors: 0 });
    expect(s.producer_refused).toEqual({
      total: 7,
      byReason: {
        'price: must be at most 1000000000000': 2,
        'ts: must be before 2100-01-01 (epoch ms 4102444800000)': 2,
        'ts: must be at or after 2000-01-01 (epoch ms 946684800000)': 1,
        'price: must be at least 1e-9': 1,
        'volume: must be at most 1000000000000000': 1,
      },
    });
  });
});
