import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { EMA, SMA } from '../../../analytics';
import { Slab, sharedSlab } from '../../../analytics/storage';

describe('Slab', () => {
  it('hands out distinct, zeroed blocks, several to a chunk', () => {
    const slab = new Slab(24, 100);
    expect(slab.blocksPerChunk).toBe(4);
    const owners = Array.from({ length: 10 }, () => ({}));
    const blocks = owners.map((o) => slab.take(o));
    expect(slab.stats).toEqual({ chunks: 3, freeBlocks: 0 });
    expect(new Set(blocks.map((b) => b.f)).size).toBe(3);
    blocks.forEach((b, i) => {
      expect(b.offset % 24).toBe(0);
      expect(b.offset + 24).toBeLessThanOrEqual(b.f.length);
      expect(Array.from(b.f.subarray(b.offset, b.offset + 24)).every((x) => x === 0)).toBe(true);
      b.f.fill(i + 1, b.offset, b.offset + 24);
    });
    // Each block still holds only its own owner's numbers: none overlapped.
    blocks.forEach((b, i) => expect(Array.from(b.f.subarray(b.offset, b.offset + 24)).every((x) => x === i + 1)).toBe(true));
  });

  it('standalone indicators take neighbouring blocks of one slab and stay independent', () => {
    const a = new SMA(7);
    const b = new SMA(7);
    const e = new EMA(3);
    expect(sharedSlab(SMA.slots(7)).stats.chunks).toBe(1);
    const xs = [5, 6, 7, 8, 9, 10, 11, 12];
    const fromA = xs.map((x) => a.update(x));
    const fromB = xs.map((x) => b.update(100 - x));
    xs.forEach((x) => e.update(x));
    expect(fromA.slice(6)).toEqual([8, 9]);
    expect(fromB.slice(6)).toEqual([92, 91]);
    expect(a.getState().buf).toHaveLength(7);
    expect(b.getState().buf.every((x) => x > 80)).toBe(true);
  });

  it('rejects a nonsense block size', () => {
    expect(() => new Slab(0)).toThrow(/block size/);
    expect(() => new Slab(2.5)).toThrow(/block size/);
  });

  // A real collection is the only honest way to see a block come back. It is
  // observed in a plain Node process with --expose-gc: inside jest's vm
  // context, on a cold transform cache, dropped owners were not collected.
  it('takes blocks back from collected owners (its own and the analyzer slab), reuses them zeroed, never a live one', () => {
    const script = join(__dirname, 'fixtures', 'slab-gc.ts');
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({
      own: {
        before: { chunks: 1, freeBlocks: 0 },
        freedAll: true,
        chunksAfterReuse: 1,
        reusedZeroed: true,
        reusedOverlapsKept: false,
        keptIntact: true,
        keptOwner: 'kept',
      },
      analyzers: { freed400: true, chunksGrew: false, rebornFresh: true, liveIntact: true },
    });
  });
});
