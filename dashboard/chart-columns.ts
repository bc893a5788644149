/** A symbol's history in the shape its chart page reads fastest (see ChartColumns). Pure. */
import type { ChartColumns, SymbolHistory } from './wire';

export function chartColumns(h: SymbolHistory): ChartColumns {
  const c: ChartColumns = { symbol: h.symbol, ts: [], price: [], volume: [], sma5: [], sma20: [], bb_upper: [], bb_lower: [], rsi14: [], signals: [], anomalies: [] };
  h.points.forEach((p, i) => {
    c.ts.push(p.ts);
    c.price.push(p.price);
    c.volume.push(p.volume);
    c.sma5.push(p.sma5);
    c.sma20.push(p.sma20);
    c.bb_upper.push(p.bb_upper);
    c.bb_lower.push(p.bb_lower);
    c.rsi14.push(p.rsi14);
    if (p.signal !== null) c.signals.push([i, p.signal]);
    if (p.anomaly) c.anomalies.push(i);
  });
  return c;
}
