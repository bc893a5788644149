import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEAD_LETTERS_FILE, LocalDeadLetterQueue } from '../../../consumer/sinks/local-files';
import { deadLetter } from './factories';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'tickstream-dlq-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function lines(): Promise<unknown[]> {
  return (await readFile(path.join(dataDir, DEAD_LETTERS_FILE), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
}

describe('LocalDeadLetterQueue', () => {
  it('appends each dead letter as one JSON line with data, shard, sequence number, reason and time', async () => {
    const q = new LocalDeadLetterQueue({ dataDir });
    const a = deadLetter();
    const b = deadLetter({ sequence_number: '2', reason: 'invalid tick: price: Too small' });
    await q.put(a);
    await q.put(b);
    await q.close();
    expect(await lines()).toEqual([a, b]);
  });

  it('does not append a record twice, in one process or after a restart (replay)', async () => {
    const first = new LocalDeadLetterQueue({ dataDir });
    await Promise.all([first.put(deadLetter()), first.put(deadLetter())]);
    await first.close();
    const second = new LocalDeadLetterQueue({ dataDir });
    await second.put(deadLetter({ at: '2024-03-02T00:00:00.000Z' }));
    await second.put(deadLetter({ shard_id: 'shardId-000000000002' }));
    await second.close();
    expect(await lines()).toEqual([deadLetter(), deadLetter({ shard_id: 'shardId-000000000002' })]);
  });

  it('dedups on the letter id: two ticks of one record are two letters, and a replay of either appends nothing', async () => {
    const record = deadLetter();
    const tick0 = deadLetter({ kind: 'tick', id: `${record.id}/0`, reason: 'analysis failed: RangeError' });
    const tick1 = deadLetter({ kind: 'tick', id: `${record.id}/1`, reason: 'analysis failed: RangeError' });
    const first = new LocalDeadLetterQueue({ dataDir });
    await first.put(tick0);
    await first.put(tick1);
    await first.close();
    const replay = new LocalDeadLetterQueue({ dataDir });
    await replay.put({ ...tick1, at: '2024-03-02T00:00:00.000Z' });
    await replay.put({ ...tick0, at: '2024-03-02T00:00:00.000Z' });
    await replay.close();
    expect(await lines()).toEqual([tick0, tick1]);
  });
});
