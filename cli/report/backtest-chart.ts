/**
 * The series a backtest report draws, collected bar by bar while the
 * backtest streams its file. A bar file may hold millions of bars, so memory
 * and the HTML stay bounded: past MAX_POINTS the points are merged in pairs
 * (each point then stands for twice as many bars), as often as needed.
 *
 * A merged point shows its last bar's close, SMAs and equity (what a chart
 * of closes at that resolution shows) but its worst drawdown, so the
 * drawdown chart still reaches the max drawdown the statistics print.
 */
import type { EquityMark } from '../backtest-core';

/** Points kept before merging; 10,000 to 20,000 are drawn. */
const MAX_POINTS = 20_000;

/** One column per series, index-aligned with `time`; columns keep the JSON small. */
export interface BacktestChartData {
  /** Bars each point stands for (1: every bar is drawn). */
  barsPerPoint: number;
  bars: number;
  /** UTC seconds (the charting library's time unit), strictly increasing. */
  time: number[];
  close: number[];
  sma5: (number | null)[];
  sma20: (number | null)[];
  /** Multiples of the start: 1 is break-even. */
  equity: number[];
  hold: number[];
  /** Fractions: 0.1 is 10 % below the peak. */
  drawdown: number[];
  holdDrawdown: number[];
}

export interface ChartBar {
  ts: number;
  close: number;
  sma5: number | null;
  sma20: number | null;
  mark: EquityMark;
}

export class BacktestChartCollector {
  private readonly d: BacktestChartData = { barsPerPoint: 1, bars: 0, time: [], close: [], sma5: [], sma20: [], equity: [], hold: [], drawdown: [], holdDrawdown: [] };
  /** Bars folded into the point being built (the last one in the arrays). */
  private pending = 0;

  constructor(private readonly maxPoints = MAX_POINTS) {
    if (maxPoints < 2) throw new RangeError('maxPoints must be at least 2');
  }

  add(bar: ChartBar): void {
    const d = this.d;
    d.bars++;
    const time = Math.floor(bar.ts / 1000);
    const last = d.time.length - 1;
    // A bar joins the open point while it has room, and always when it falls
    // in the same second (the chart's time unit allows one point per second).
    if (last >= 0 && (this.pending < d.barsPerPoint || (d.time[last] as number) >= time)) {
      this.pending++;
      d.time[last] = Math.max(d.time[last] as number, time);
      d.close[last] = bar.close;
      d.sma5[last] = bar.sma5;
      d.sma20[last] = bar.sma20;
      d.equity[last] = bar.mark.equity;
      d.hold[last] = bar.mark.hold;
      d.drawdown[last] = Math.max(d.drawdown[last] as number, bar.mark.drawdown);
      d.holdDrawdown[last] = Math.max(d.holdDrawdown[last] as number, bar.mark.holdDrawdown);
      return;
    }
    if (d.time.length >= this.maxPoints) this.halve();
    this.pending = 1;
    d.time.push(time);
    d.close.push(bar.close);
    d.sma5.push(bar.sma5);
    d.sma20.push(bar.sma20);
    d.equity.push(bar.mark.equity);
    d.hold.push(bar.mark.hold);
    d.drawdown.push(bar.mark.drawdown);
    d.holdDrawdown.push(bar.mark.holdDrawdown);
  }

  /** Merges points in pairs: the later one's values, the worse drawdown. */
  private halve(): void {
    const d = this.d;
    const n = d.time.length;
    let w = 0;
    for (let r = 0; r < n; r += 2) {
      const k = Math.min(r + 1, n - 1);
      d.time[w] = d.time[k] as number;
      d.close[w] = d.close[k] as number;
      d.sma5[w] = d.sma5[k] ?? null;
      d.sma20[w] = d.sma20[k] ?? null;
      d.equity[w] = d.equity[k] as number;
      d.hold[w] = d.hold[k] as number;
      d.drawdown[w] = Math.max(d.drawdown[r] as number, d.drawdown[k] as number);
      d.holdDrawdown[w] = Math.max(d.holdDrawdown[r] as number, d.holdDrawdown[k] as number);
      w++;
    }
    for (const col of [d.time, d.close, d.sma5, d.sma20, d.equity, d.hold, d.drawdown, d.holdDrawdown]) col.length = w;
    // An odd last point stood alone, so it is not full: it takes more bars.
    this.pending = n % 2 === 1 ? this.pending : d.barsPerPoint * 2;
    d.barsPerPoint *= 2;
  }

  data(): BacktestChartData {
    return this.d;
  }
}
