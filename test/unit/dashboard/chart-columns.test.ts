import { chartColumns } from '../../../dashboard/chart-columns';
import { pointOf } from '../../helpers/dashboard';

describe('chartColumns', () => {
  it('puts each field in its own array at the same index, with signals and anomalies sparse', () => {
    const points = [pointOf(1000, 10), { ...pointOf(2000, 11), sma20: null, signal: 'BUY' as const }, { ...pointOf(3000, 12), anomaly: true, rsi14: null }, { ...pointOf(4000, 13), signal: 'SELL' as const, anomaly: true }];
    expect(chartColumns({ symbol: 'X', points })).toEqual({
      symbol: 'X',
      ts: [1000, 2000, 3000, 4000],
      price: [10, 11, 12, 13],
      volume: [100, 100, 100, 100],
      sma5: [10, 11, 12, 13],
      sma20: [10, null, 12, 13],
      bb_upper: [11, 12, 13, 14],
      bb_lower: [9, 10, 11, 12],
      rsi14: [50, 50, null, 50],
      signals: [
        [1, 'BUY'],
        [3, 'SELL'],
      ],
      anomalies: [2, 3],
    });
  });
});
