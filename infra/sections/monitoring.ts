import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICES, type MetricName, type ServiceName } from '../../shared/metrics';
import type { Messaging } from './alerts';
import type { Section } from './common';
import { iteratorAge as iteratorAgeOf } from './consumer-service';
import { silenceWhileMarketOpen } from './market-hours';

interface MonitoringDeps {
  readonly stream: kinesis.Stream;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly messaging: Messaging;
  readonly cluster: ecs.Cluster;
  readonly producerService: ecs.FargateService;
  readonly consumerService: ecs.FargateService;
  /** The app's tables and the KCL's, for the throttling alarms. */
  readonly appTables: readonly dynamodb.Table[];
  readonly kclTables: readonly dynamodb.Table[];
}

/** Alarms to the ops topic, and the ops dashboard. Returns the alarms. */
export function monitoring({ stack, cfg }: Section, d: MonitoringDeps): cloudwatch.Alarm[] {
  const { opsTopic, dlq } = d.messaging;
  const alarms: cloudwatch.Alarm[] = [];
  const iteratorAge = iteratorAgeOf(d.stream);
  const app = (service: ServiceName, name: MetricName, statistic = 'Sum'): cloudwatch.Metric =>
    new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: name, dimensionsMap: { [SERVICE_DIMENSION]: service }, statistic, period: Duration.minutes(1) });
  const fh = (name: string, statistic = 'Sum'): cloudwatch.Metric =>
    new cloudwatch.Metric({ namespace: 'AWS/Firehose', metricName: name, dimensionsMap: { DeliveryStreamName: d.deliveryStream.ref }, statistic, period: Duration.minutes(5) });
  // Who gets what: every alarm notifies the ops topic on ALARM and on OK
  // (README, "Who gets each alarm").
  const alarm = (id: string, props: cloudwatch.AlarmProps): void => {
    const a = new cloudwatch.Alarm(stack, id, props);
    a.addAlarmAction(new cwActions.SnsAction(opsTopic));
    a.addOkAction(new cwActions.SnsAction(opsTopic));
    alarms.push(a);
  };
  alarm('IteratorAgeAlarm', {
    alarmDescription: 'Consumers are more than a minute behind the stream (GetRecords.IteratorAgeMilliseconds)',
    metric: iteratorAge,
    threshold: 60_000,
    evaluationPeriods: 5,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm('DeadLetterAlarm', {
    alarmDescription: 'Records are arriving in the dead-letter queue',
    metric: dlq.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm('ConsumerErrorsAlarm', {
    alarmDescription: 'The record processors report errors (EMF ConsumerErrors)',
    metric: app(SERVICES.consumer, METRIC.consumerErrors),
    threshold: 0,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm('FirehoseDeliveryAlarm', {
    alarmDescription: 'Firehose failed to deliver to S3',
    metric: fh('DeliveryToS3.Success', 'Minimum'),
    threshold: 1,
    evaluationPeriods: 3,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm('FirehoseConversionAlarm', {
    alarmDescription: 'Firehose could not convert records to Parquet (they went to errors/)',
    metric: fh('FailedConversion.Records'),
    threshold: 0,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm('ProducerSourceAlarm', {
    alarmDescription: 'The producer keeps failing to fetch quotes from its source',
    metric: app(SERVICES.producer, METRIC.sourceFailures),
    threshold: 5,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm('ProducerPutFailuresAlarm', {
    alarmDescription: 'Kinesis rejects producer records after retries (throttling: add shards)',
    metric: app(SERVICES.producer, METRIC.putRecordsFailed),
    threshold: 0,
    evaluationPeriods: 3,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });

  // Silence is the failure here: a stopped producer or a consumer that
  // processes nothing emits no data point at all, so these two treat
  // missing data as breaching, inside market hours only (market-hours.ts).
  if (cfg.producerTasks > 0) {
    const silent = (service: ServiceName, name: MetricName, what: string): void =>
      alarm(`No${name}Alarm`, {
        alarmDescription: `No ticks ${what} for ${cfg.silenceAlarmMinutes} minutes while the market is open (${name} missing or zero)`,
        metric: silenceWhileMarketOpen(app(service, name).with({ period: Duration.minutes(5) }), cfg.source === 'synthetic' ? 'always' : 'us-equities'),
        threshold: 1,
        evaluationPeriods: cfg.silenceAlarmMinutes / 5,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    silent(SERVICES.producer, METRIC.ticksProduced, 'produced');
    silent(SERVICES.consumer, METRIC.ticksProcessed, 'processed');
  }

  // Throttling: sustained for 15 minutes, so a retried burst does not page anyone.
  const throttled = (id: string, description: string, metric: cloudwatch.IMetric): void =>
    alarm(id, {
      alarmDescription: description,
      metric,
      threshold: 0,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  const fiveMinuteSum = { statistic: 'Sum', period: Duration.minutes(5) } as const;
  throttled('KinesisWriteThrottleAlarm', 'PutRecords is throttled by the shard limits (1 MB/s or 1,000 records/s per shard): add shards', d.stream.metricWriteProvisionedThroughputExceeded(fiveMinuteSum));
  throttled('KinesisReadThrottleAlarm', 'GetRecords is throttled (5 calls/s, 2 MB/s per shard): too many workers per shard or a tight poll interval', d.stream.metricReadProvisionedThroughputExceeded(fiveMinuteSum));
  // At most 10 metrics per alarm: one alarm for the app's tables (5 x read and write), one for the KCL's.
  const tableThrottles = (tables: readonly dynamodb.Table[]): cloudwatch.MathExpression => {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    tables.forEach((t, i) => {
      usingMetrics[`r${i}`] = t.metric('ReadThrottleEvents', fiveMinuteSum);
      usingMetrics[`w${i}`] = t.metric('WriteThrottleEvents', fiveMinuteSum);
    });
    return new cloudwatch.MathExpression({ expression: Object.keys(usingMetrics).map((k) => `FILL(${k}, 0)`).join(' + '), usingMetrics, period: Duration.minutes(5) });
  };
  throttled('DynamoDbAppThrottleAlarm', 'DynamoDB throttles reads or writes on the ticks, latest, state, alerts or producer-lease table (on-demand: a hot partition or the account limit)', tableThrottles(d.appTables));
  throttled('DynamoDbKclThrottleAlarm', 'DynamoDB throttles the KCL lease, worker-metrics or coordinator-state table: checkpoints and lease renewals are failing', tableThrottles(d.kclTables));

  // Container Insights (enabled on the cluster) reports desired and running
  // counts per service; a deploy overlaps old and new tasks (running >=
  // desired), so only a sustained shortfall alarms.
  for (const [id, service] of [['Consumer', d.consumerService], ['Producer', d.producerService]] as const) {
    const insight = (name: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: name,
        dimensionsMap: { ClusterName: d.cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Minimum',
        period: Duration.minutes(5),
      });
    alarm(`${id}TasksBelowDesiredAlarm`, {
      alarmDescription: `Fewer ${id.toLowerCase()} tasks run than the service wants (ECS Container Insights RunningTaskCount < DesiredTaskCount for 15 minutes)`,
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(desired, 0) - FILL(running, 0)',
        usingMetrics: { desired: insight('DesiredTaskCount').with({ statistic: 'Maximum' }), running: insight('RunningTaskCount') },
        period: Duration.minutes(5),
      }),
      threshold: 0,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  // Math-expression ids must be unique within one graph, hence the id parameter.
  const perSecond = (id: string, m: cloudwatch.Metric, label: string): cloudwatch.MathExpression =>
    new cloudwatch.MathExpression({ expression: `${id} / PERIOD(${id})`, usingMetrics: { [id]: m }, label, period: Duration.minutes(1) });
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', { dashboardName: `${cfg.appName}-pipeline` });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Ticks per second',
      left: [perSecond('produced', app(SERVICES.producer, METRIC.ticksProduced), 'produced'), perSecond('processed', app(SERVICES.consumer, METRIC.ticksProcessed), 'processed')],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Lag (ms)',
      left: [iteratorAge.with({ label: 'iterator age (max)' }), app(SERVICES.consumer, METRIC.millisBehindLatest, 'Maximum').with({ label: 'KCL millisBehindLatest (max)' })],
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Signals and alerts',
      left: [app(SERVICES.consumer, METRIC.signals), app(SERVICES.consumer, METRIC.alertsPublished), app(SERVICES.consumer, METRIC.duplicatesSkipped)],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Errors',
      left: [
        app(SERVICES.consumer, METRIC.consumerErrors),
        app(SERVICES.consumer, METRIC.deadLetters),
        app(SERVICES.producer, METRIC.sourceFailures),
        app(SERVICES.producer, METRIC.putRecordsFailed),
        fh('FailedConversion.Records'),
      ],
      width: 12,
    }),
  );
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 }));
  return alarms;
}
