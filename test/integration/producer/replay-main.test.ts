import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startKinesisLocal, type Emulator } from '../../../local/emulators';
import { LOCAL_REGION, createStream } from '../../../local/stack';
import { kinesisClient } from '../../../shared/aws';
import { ENV } from '../../../shared/env-names';
import { tmpDir } from '../../helpers/wait';
import { readAll } from './read-back';

describe('producer main with --source replay', () => {
  const dir = tmpDir('producer-replay');
  let emulator: Emulator;
  let kinesis: KinesisClient;

  beforeAll(async () => {
    emulator = await startKinesisLocal({ logDir: dir });
    kinesis = kinesisClient({ region: LOCAL_REGION, endpoint: emulator.endpoint });
    await createStream(kinesis, 'replay', 2);
  }, 60_000);
  afterAll(async () => {
    kinesis?.destroy();
    await emulator?.stop();
  });

  it('replays CSV bars of two files into the stream at max speed and exits 0', async () => {
    const rows = (n: number, offsetMin: number): string =>
      ['timestamp,open,high,low,close,volume', ...Array.from({ length: n }, (_, i) => `${new Date(Date.UTC(2024, 0, 2, 14, 30 + offsetMin + i * 2)).toISOString().replace('T', ' ').slice(0, 19)},10,11,9,${10 + i / 100},${100 + i}`)].join('\n');
    const a = path.join(dir, 'AAPL.csv');
    const m = path.join(dir, 'MSFT.csv');
    writeFileSync(a, rows(150, 0));
    writeFileSync(m, rows(150, 1));
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../../producer/main.ts'), '--source', 'replay', '--csv', a, '--csv', m, '--speed', 'max'], {
      env: { ...process.env, [ENV.streamName]: 'replay', [ENV.region]: LOCAL_REGION, [ENV.kinesisEndpoint]: emulator.endpoint, [ENV.logLevel]: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    expect({ code, stderr: stderr.split('\n').filter((l) => l.includes('"level":"error"')) }).toEqual({ code: 0, stderr: [] });
    expect(stdout).toBe('');
    const ticks = [...(await readAll(kinesis, 'replay')).values()].flat();
    expect(ticks).toHaveLength(300);
    for (const sym of ['AAPL', 'MSFT']) {
      const ts = ticks.filter((t) => t.symbol === sym).map((t) => t.ts);
      expect(ts).toEqual([...ts].sort((x, y) => x - y));
      expect(new Set(ts).size).toBe(150);
    }
    expect(ticks.every((t) => t.source === 'replay')).toBe(true);
  });
});
