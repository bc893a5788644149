import type { Alert as CoreAlert } from '../../../analytics/alerts';
import { alertId } from '../../../analytics/alerts';
import { MemoryAlertPublisher } from '../../../consumer/sinks/memory';
import type { Alert } from '../../../consumer/ports';

describe('ports and the analytics core', () => {
  it("accepts the core's Alert as a port Alert (compile-time) and dedups on its id", async () => {
    const core: CoreAlert = {
      id: alertId('AAPL', 'BUY', 1_709_305_200_000),
      symbol: 'AAPL',
      type: 'BUY',
      ts: 1_709_305_200_000,
      price: 101.5,
      message: 'AAPL is in an Uptrend! Consider a buy opportunity.',
      changePct: 1.5,
      sma5: 101,
      sma20: 100,
      volumeRatio: 1.1,
    };
    const port: Alert = core;
    const p = new MemoryAlertPublisher(0);
    expect(await p.publish(port)).toBe('published');
    expect(await p.publish({ ...core })).toBe('duplicate');
  });
});
