import { SyntheticSource } from '../../../producer/sources/synthetic';
import { TickSchema, type Tick } from '../../../shared/tick';

async function run(symbols: string[], maxTicks: number, seed = 7): Promise<Tick[]> {
  const startTs = Date.UTC(2026, 0, 5, 14, 30);
  const src = new SyntheticSource({ symbols, seed, ratePerSec: Infinity, maxTicks, startTs, now: () => startTs });
  const out: Tick[] = [];
  for await (const b of src.ticks(new AbortController().signal)) out.push(...b);
  return out;
}

describe('SyntheticSource', () => {
  it('is deterministic for a seed and differs across seeds', async () => {
    const a = await run(['AAA', 'BBB'], 1_000);
    expect(await run(['AAA', 'BBB'], 1_000)).toEqual(a);
    expect((await run(['AAA', 'BBB'], 1_000, 8)).map((t) => t.price)).not.toEqual(a.map((t) => t.price));
  });

  it("gives a symbol the same ticks whichever symbols run beside it (so scale-out splits don't change the data)", async () => {
    const alone = (await run(['AAA'], 500)).map((t) => [t.ts, t.price]);
    const together = (await run(['AAA', 'BBB', 'CCC'], 1_500)).filter((t) => t.symbol === 'AAA').map((t) => [t.ts, t.price]);
    expect(together).toEqual(alone);
  });

  it('emits valid ticks, strictly increasing per symbol, with >5 % jumps and volume bursts', async () => {
    const symbols = Array.from({ length: 20 }, (_, i) => `SYM${i}`);
    const ticks = await run(symbols, 40_000);
    expect(ticks.every((t) => TickSchema.safeParse(t).success)).toBe(true);
    const last = new Map<string, Tick>();
    let jumps = 0;
    let bursts = 0;
    let outOfOrder = 0;
    const volumes = new Map<string, number[]>();
    for (const t of ticks) {
      const prev = last.get(t.symbol);
      if (prev !== undefined) {
        if (t.ts <= prev.ts) outOfOrder++;
        if (Math.abs(t.price / prev.price - 1) > 0.05) jumps++;
      }
      last.set(t.symbol, t);
      volumes.set(t.symbol, [...(volumes.get(t.symbol) ?? []), t.volume]);
    }
    for (const v of volumes.values()) {
      const median = [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)] ?? 1;
      bursts += v.filter((x) => x > 4 * median).length;
    }
    expect(outOfOrder).toBe(0);
    expect(jumps).toBeGreaterThan(0);
    expect(bursts).toBeGreaterThan(0);
  });
});
