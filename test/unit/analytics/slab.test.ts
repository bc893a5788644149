import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ANALYZER_STATE_SLOTS, SymbolAnalyzer } from '../../../analytics';
import { Slab, sharedSlab } from '../../../analytics/storage';
import { tick } from './factories';

// A real collection is the only honest way to see a block come back;
// jest does not start node with --expose-gc, so turn it on here.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collect until `done()` or a bounded number of tries (finalizers run as tasks after a GC). */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 50 && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  return done();
}

describe('Slab', () => {
  it('hands out distinct, zeroed blocks, several to a chunk', () => {
    const slab = new Slab(24, 100);
    expect(slab.blocksPerChunk).toBe(4);
    const owners = Array.from({ length: 10 }, () => ({}));
    const blocks = owners.map((o) => slab.take(o));
    expect(slab.stats.chunks).toBe(3);
    expect(new Set(blocks.map((b) => b.f)).size).toBe(3);
    blocks.forEach((b, i) => {
      expect(b.offset % 24).toBe(0);
      expect(b.offset + 24).toBeLessThanOrEqual(b.f.length);
      expect(Array.from(b.f.subarray(b.offset, b.offset + 24)).every((x) => x === 0)).toBe(true);
      b.f.fill(i + 1, b.offset, b.offset + 24);
    });
    // Each block still holds only its own owner's numbers: none overlapped.
    blocks.forEach((b, i) => expect(Array.from(b.f.subarray(b.offset, b.offset + 24)).every((x) => x === i + 1)).toBe(true));
    expect(owners).toHaveLength(10);
  });

  it('rejects a nonsense block size', () => {
    expect(() => new Slab(0)).toThrow(/block size/);
    expect(() => new Slab(2.5)).toThrow(/block size/);
  });

  it("takes a block back once its owner is collected, and hands it out again zeroed", async () => {
    const slab = new Slab(8, 64);
    const keep = {};
    const kept = slab.take(keep);
    kept.f.fill(5, kept.offset, kept.offset + 8);
    (() => {
      for (let i = 0; i < 7; i++) {
        const b = slab.take({});
        b.f.fill(9, b.offset, b.offset + 8);
      }
    })();
    expect(slab.stats).toEqual({ chunks: 1, freeBlocks: 0 });
    expect(await collectUntil(() => slab.stats.freeBlocks === 7)).toBe(true);
    // Reuse, not growth; zeroed; and the live owner's block untouched.
    const again = Array.from({ length: 7 }, () => slab.take({}));
    expect(slab.stats.chunks).toBe(1);
    for (const b of again) {
      expect(b.offset).not.toBe(kept.offset);
      expect(Array.from(b.f.subarray(b.offset, b.offset + 8)).every((x) => x === 0)).toBe(true);
    }
    expect(Array.from(kept.f.subarray(kept.offset, kept.offset + 8)).every((x) => x === 5)).toBe(true);
    expect(keep).toBeDefined();
  });

  it('dropped analyzers give their blocks back; live ones keep theirs', async () => {
    const live = new SymbolAnalyzer('LIVE');
    live.analyze(tick({ symbol: 'LIVE', price: 123.45 }));
    const before = live.getState();
    (() => {
      for (let i = 0; i < 500; i++) new SymbolAnalyzer(`X${i}`).analyze(tick({ symbol: `X${i}`, price: 1 + i }));
    })();
    const slab = sharedSlab(ANALYZER_STATE_SLOTS);
    expect(await collectUntil(() => slab.stats.freeBlocks >= 400)).toBe(true);
    const chunks = slab.stats.chunks;
    // Reused blocks start from zero: a new analyzer has seen nothing.
    const reborn = Array.from({ length: 400 }, (_, i) => new SymbolAnalyzer(`Y${i}`));
    for (const a of reborn) expect([a.lastTs, a.getState().sma5.buf.length]).toEqual([null, 0]);
    expect(slab.stats.chunks).toBe(chunks);
    expect(live.getState()).toEqual(before);
  });
});
