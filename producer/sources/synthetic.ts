import { sleep as realSleep } from '../../shared/runtime/sleep';
import type { Tick } from '../../shared/tick';
import { toSymbolProvider, type SymbolProvider, type TickSource } from './source';

export interface SyntheticOptions {
  symbols: readonly string[] | SymbolProvider;
  seed: number;
  /** ticks per second across all symbols; Infinity = as fast as the writer takes them */
  ratePerSec: number;
  /** stop after this many ticks in total (undefined: until aborted) */
  maxTicks?: number;
  /** ms of market time between two ticks of one symbol */
  tickIntervalMs?: number;
  /** market time of the first tick; default: now, rounded to the second */
  startTs?: number;
  /** probability per tick of a jump of more than 5 % */
  jumpProbability?: number;
  /** probability per tick of a volume burst (5-10x) */
  burstProbability?: number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** mulberry32: tiny, fast, and identical on every platform for a given seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

interface SymState {
  rnd: () => number;
  price: number;
  previousClose: number;
  ts: number;
  baseVolume: number;
  day: number;
}

const DAY_MS = 86_400_000;

/**
 * A seeded market: geometric Brownian motion per symbol, with occasional
 * jumps above 5 % and volume bursts so that every signal type shows up in a
 * demo. Each symbol has its own generator seeded from (seed, symbol), so the
 * ticks of a symbol do not depend on which other symbols run beside it: two
 * producers splitting the universe emit the same ticks as one producer.
 */
export class SyntheticSource implements TickSource {
  readonly name = 'synthetic' as const;
  private readonly symbols: SymbolProvider;
  private readonly state = new Map<string, SymState>();
  private readonly interval: number;
  private readonly startTs: number;

  constructor(private readonly o: SyntheticOptions) {
    this.symbols = toSymbolProvider(o.symbols);
    this.interval = o.tickIntervalMs ?? 1000;
    this.startTs = o.startTs ?? Math.floor((o.now ?? Date.now)() / 1000) * 1000;
  }

  private stateOf(symbol: string): SymState {
    let s = this.state.get(symbol);
    if (s === undefined) {
      const rnd = mulberry32(hashString(symbol) ^ this.o.seed);
      const price = 20 + rnd() * 480;
      s = { rnd, price, previousClose: price, ts: this.startTs, baseVolume: 1000 + Math.floor(rnd() * 50_000), day: Math.floor(this.startTs / DAY_MS) };
      this.state.set(symbol, s);
    }
    return s;
  }

  /** Next tick of one symbol (deterministic for the seed). */
  next(symbol: string, producedAt: number): Tick {
    const s = this.stateOf(symbol);
    const r = s.rnd;
    s.ts += this.interval;
    const day = Math.floor(s.ts / DAY_MS);
    if (day !== s.day) {
      s.previousClose = s.price;
      s.day = day;
    }
    // Box-Muller normal; sigma ~0.2 % per tick, slight positive drift
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    let ret = 0.00002 + 0.002 * z;
    if (r() < (this.o.jumpProbability ?? 0.0005)) ret += (r() < 0.5 ? -1 : 1) * (0.055 + 0.03 * r());
    s.price = Math.max(0.01, s.price * Math.exp(ret));
    const burst = r() < (this.o.burstProbability ?? 0.002) ? 5 + 5 * r() : 1;
    const volume = Math.round(s.baseVolume * (0.5 + r()) * burst);
    return {
      v: 1,
      symbol,
      ts: s.ts,
      price: Math.round(s.price * 10000) / 10000,
      volume,
      previousClose: Math.round(s.previousClose * 10000) / 10000,
      source: 'synthetic',
      producedAt,
      marketState: 'REGULAR',
    };
  }

  async *ticks(signal: AbortSignal): AsyncIterable<readonly Tick[]> {
    const now = this.o.now ?? Date.now;
    const sleep = this.o.sleep ?? realSleep;
    const rate = this.o.ratePerSec;
    const max = this.o.maxTicks ?? Number.POSITIVE_INFINITY;
    const started = now();
    let emitted = 0;
    let i = 0;
    while (!signal.aborted && emitted < max) {
      const symbols = this.symbols();
      if (symbols.length === 0) {
        await sleep(100, signal);
        continue;
      }
      // Emit in slices of ~50 ms worth of ticks, paced against the wall clock
      // so the average rate holds whatever the writer's latency.
      const due = Number.isFinite(rate) ? Math.floor(((now() - started) / 1000) * rate) + 1 : emitted + 500;
      const n = Math.min(due - emitted, max - emitted, 500);
      if (n <= 0) {
        await sleep(Math.max(1, Math.ceil(1000 / rate)), signal);
        continue;
      }
      const batch: Tick[] = new Array<Tick>(n);
      const t = now();
      for (let k = 0; k < n; k++) batch[k] = this.next(symbols[i++ % symbols.length]!, t);
      emitted += n;
      yield batch;
    }
  }
}
