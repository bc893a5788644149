import type { Tick } from '../../../shared/tick';

// Jest runs test code in a vm context where each global lookup (Math) is
// slow; the 10-million-update test calls this in its loop.
const imul = Math.imul;

/** Small fast seeded PRNG (mulberry32): tests must be reproducible and generate their own data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = 1 - rand();
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Geometric random walk, ~1 % per step, starting at `start`. */
export function randomWalk(n: number, seed: number, start = 100, vol = 0.01): number[] {
  const rand = rng(seed);
  const out = new Array<number>(n);
  let p = start;
  for (let i = 0; i < n; i++) {
    p *= Math.exp(vol * gaussian(rand));
    out[i] = p;
  }
  return out;
}

export const T0 = Date.UTC(2024, 0, 2, 14, 30);

export function tick(over: Partial<Tick> = {}): Tick {
  return { v: 1, symbol: 'AAPL', ts: T0, price: 100, volume: 1000, previousClose: 100, source: 'synthetic', producedAt: T0 + 5, ...over };
}

/** One step of a generated tick stream; fast-check builds these so failures shrink. */
export interface Step {
  /** ms since the previous tick; 0 or negative makes a duplicate / out-of-order tick. */
  dtMs: number;
  /** Relative price move. */
  ret: number;
  volume: number;
}

/**
 * Turn steps into ticks the way a producer would: previousClose is the last
 * price of the previous UTC day, so change_pct, anomalies and the VWAP
 * session reset all get exercised when steps cross midnight.
 */
export function ticksFromSteps(steps: readonly Step[], symbol = 'AAPL', start = 100): Tick[] {
  const out: Tick[] = [];
  let ts = T0;
  let price = start;
  let previousClose = start;
  let dayLast = start;
  let day = Math.floor(ts / 86_400_000);
  for (const s of steps) {
    ts += s.dtMs;
    const d = Math.floor(ts / 86_400_000);
    if (d > day) {
      previousClose = dayLast;
      day = d;
    }
    price = Math.max(0.01, price * (1 + s.ret));
    if (s.dtMs > 0) dayLast = price;
    out.push({ v: 1, symbol, ts, price, volume: s.volume, previousClose, source: 'synthetic', producedAt: ts + 3, marketState: 'REGULAR' });
  }
  return out;
}

/**
 * The stream of the snapshot-upgrade test: a symbol whose v1 snapshot was
 * taken after UPGRADE_SNAPSHOT_AFTER ticks (fixtures/snapshot-v1.json, written
 * by the v1 code from these ticks) and whose stream then crosses a UTC
 * midnight, so the restored VWAP session must roll over at the right tick.
 * Non-integer prices and volumes, so no rounding can hide.
 */
export const UPGRADE_SNAPSHOT_AFTER = 200;
export function upgradeTicks(): Tick[] {
  return randomWalk(600, 11, 400).map((price, i) => tick({ symbol: 'BRK.B', ts: T0 + i * 120_000, price, volume: 100.5 + ((i * 37) % 1000) / 3, previousClose: 400 }));
}
