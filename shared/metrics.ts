/**
 * Metric names shared by the app (which emits them) and infra/ (whose alarms
 * and dashboard read them). One list, so renaming a metric breaks the build
 * instead of silently orphaning an alarm.
 *
 * Metrics travel as Embedded Metric Format (EMF) JSON log lines: CloudWatch
 * Logs extracts them from the awslogs stream, so no process calls
 * PutMetricData and no task role needs cloudwatch:PutMetricData.
 */
export const METRICS_NAMESPACE = 'Tickstream' as const;

/** The one dimension every tickstream metric carries. PascalCase on purpose:
 *  the logger already writes a lower-case `service` key on every line, and
 *  EMF reads dimension values from top-level keys of the same line. */
export const SERVICE_DIMENSION = 'Service' as const;

export const SERVICES = {
  producer: 'producer',
  consumer: 'consumer',
} as const;
export type ServiceName = (typeof SERVICES)[keyof typeof SERVICES];

export const METRIC = {
  // producer
  /** Ticks accepted by Kinesis (PutRecords successes). */
  ticksProduced: 'TicksProduced',
  /** Records PutRecords rejected after the producer's retries. */
  putRecordsFailed: 'PutRecordsFailed',
  /** Failed source fetches (Yahoo HTTP errors, 429s, parse failures). */
  sourceFailures: 'SourceFailures',
  /** Time one source poll took, ms. */
  sourceLatencyMs: 'SourceLatencyMs',
  // consumer
  /** Ticks applied to state and sinks (duplicates excluded). */
  ticksProcessed: 'TicksProcessed',
  /** Replayed ticks skipped because their ts was not newer than the state's. */
  duplicatesSkipped: 'DuplicatesSkipped',
  /** Records sent to the dead-letter queue. */
  deadLetters: 'DeadLetters',
  /** Consumer errors as they happen: each failing operation once, each item a
   *  sink refused, each analysis that threw, a configuration stop. */
  consumerErrors: 'ConsumerErrors',
  /** Attempts repeated after a transient error (a sink, the state store). */
  sinkRetries: 'SinkRetries',
  /** BUY/SELL crossover signals computed. */
  signals: 'Signals',
  /** Alerts published to SNS (after deduplication). */
  alertsPublished: 'AlertsPublished',
  /** millisBehindLatest reported by the KCL with each batch. */
  millisBehindLatest: 'MillisBehindLatest',
  /** Time from the tick's producedAt to its processing, ms. */
  endToEndLatencyMs: 'EndToEndLatencyMs',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** CloudWatch units EMF accepts; the subset tickstream uses. */
export type MetricUnit = 'Count' | 'Milliseconds' | 'None';

export const METRIC_UNITS: Readonly<Record<MetricName, MetricUnit>> = {
  TicksProduced: 'Count',
  PutRecordsFailed: 'Count',
  SourceFailures: 'Count',
  SourceLatencyMs: 'Milliseconds',
  TicksProcessed: 'Count',
  DuplicatesSkipped: 'Count',
  DeadLetters: 'Count',
  ConsumerErrors: 'Count',
  SinkRetries: 'Count',
  Signals: 'Count',
  AlertsPublished: 'Count',
  MillisBehindLatest: 'Milliseconds',
  EndToEndLatencyMs: 'Milliseconds',
};

export type EmfDimensions = { readonly [SERVICE_DIMENSION]: ServiceName } & Readonly<Record<string, string>>;

export interface EmfObject {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: typeof METRICS_NAMESPACE;
      Dimensions: string[][];
      Metrics: { Name: MetricName; Unit: MetricUnit }[];
    }[];
  };
  [key: string]: unknown;
}

/**
 * One EMF log object: log it as a single JSON line (e.g. spread into a winston
 * `logger.info('metrics', emfLine(...))`) and CloudWatch turns it into metrics.
 * Pure: the timestamp is a parameter so tests are deterministic.
 *
 * Only the `Service` dimension set is declared, never `shardId` or `symbol`:
 * every distinct dimension value is a billed custom metric, and per-symbol
 * metrics would cost per symbol. Extra dimensions given here are declared as a
 * second set alongside `[Service]`, so aggregate alarms keep working.
 */
export function emfLine(
  metrics: Partial<Readonly<Record<MetricName, number>>>,
  dimensions: EmfDimensions,
  timestampMs: number = Date.now(),
): EmfObject {
  const names = (Object.keys(metrics) as MetricName[]).filter((n) => {
    const v = metrics[n];
    return typeof v === 'number' && Number.isFinite(v);
  });
  const extraKeys = Object.keys(dimensions).filter((k) => k !== SERVICE_DIMENSION);
  const dimensionSets = extraKeys.length > 0 ? [[SERVICE_DIMENSION], [SERVICE_DIMENSION, ...extraKeys]] : [[SERVICE_DIMENSION]];
  const out: EmfObject = {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: dimensionSets,
          Metrics: names.map((Name) => ({ Name, Unit: METRIC_UNITS[Name] })),
        },
      ],
    },
    ...dimensions,
  };
  for (const n of names) out[n] = metrics[n];
  return out;
}
