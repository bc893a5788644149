import { SyntheticSource } from '../../producer/sources/synthetic';
import type { Tick } from '../../shared/tick';

/** Symbols SYM00..SYMnn for tests. */
export function testSymbols(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `T${String(i).padStart(3, '0')}`);
}

/** A deterministic synthetic stream: `perSymbol` ticks for each symbol, round-robin. */
export async function syntheticTicks(symbols: readonly string[], perSymbol: number, seed = 7, startTs = Date.UTC(2026, 0, 5, 14, 30)): Promise<Tick[]> {
  const src = new SyntheticSource({ symbols, seed, ratePerSec: Number.POSITIVE_INFINITY, maxTicks: symbols.length * perSymbol, startTs, now: () => startTs });
  const out: Tick[] = [];
  for await (const batch of src.ticks(new AbortController().signal)) out.push(...batch);
  return out;
}
