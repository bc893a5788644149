import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/**
 * "The market is open", in CloudWatch metric math, for the no-ticks alarms.
 *
 * Metric math knows only UTC (DAY() is the weekday, 1 = Monday; HOUR() and
 * MINUTE() the UTC time of each data point's period). The NYSE/Nasdaq
 * regular session is 09:30-16:00 America/New_York, which is 14:30-21:00 UTC
 * in winter and 13:30-20:00 UTC in summer; the window below is the part
 * open in both, 14:30-20:00 UTC Monday to Friday, so no DST switch can put
 * a closed market inside it. Exchange holidays are not modelled: on one of
 * about ten a year the alarm fires (README, "Who gets each alarm").
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html#metric-math-syntax
 */
export const US_EQUITIES_ALWAYS_OPEN_UTC = { fromMinute: 14 * 60 + 30, toMinute: 20 * 60 } as const;

/** 'always' for a source that never sleeps (synthetic), 'us-equities' for Yahoo's US listings. */
export type MarketSchedule = 'always' | 'us-equities';

/**
 * The expression a no-ticks alarm watches: the metric's sum per period
 * (0 where it has no data point) while the market is open, and 1 (healthy)
 * while it is closed. The time comes from TIME_SERIES, not from the metric:
 * a producer that has stopped emits nothing, and a time taken from its
 * metric would have no data points to be "open" at. The alarm treats
 * missing data as breaching too, so a FILL that yields nothing for a metric
 * with no data at all still alarms inside the window.
 */
export function silenceWhileMarketOpen(metric: cloudwatch.IMetric, schedule: MarketSchedule): cloudwatch.MathExpression {
  const period = Duration.minutes(5);
  if (schedule === 'always') return new cloudwatch.MathExpression({ expression: 'FILL(m, 0)', usingMetrics: { m: metric }, period, label: 'ticks (0 when none)' });
  const t = 'TIME_SERIES(0)';
  const minuteOfDay = `(HOUR(${t}) * 60 + MINUTE(${t}))`;
  const { fromMinute, toMinute } = US_EQUITIES_ALWAYS_OPEN_UTC;
  const open = `DAY(${t}) <= 5 AND ${minuteOfDay} >= ${fromMinute} AND ${minuteOfDay} < ${toMinute}`;
  return new cloudwatch.MathExpression({ expression: `IF(${open}, FILL(m, 0), 1)`, usingMetrics: { m: metric }, period, label: 'ticks while the market is open (1 when closed)' });
}
