import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION, SERVICES, type MetricName, type ServiceName } from '../../shared/metrics';
import type { Messaging } from './alerts';
import type { Section } from './common';
import { iteratorAge as iteratorAgeOf } from './consumer-service';

interface MonitoringDeps {
  readonly stream: kinesis.Stream;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly messaging: Messaging;
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
      left: [app(SERVICES.consumer, METRIC.signals), app(SERVICES.consumer, METRIC.alertsPublished), app(SERVICES.consumer, METRIC.alertsDeduplicated)],
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
