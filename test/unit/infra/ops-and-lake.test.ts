/**
 * Issue 12, items 2 and 3: alarms that reach someone, and a lake Athena can
 * always read with the CLI's answers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { athenaTable } from '../../../lake/athena';
import { METRIC, METRICS_NAMESPACE } from '../../../shared/metrics';
import { DT_RANGE_PARAMETERS, NAMED_QUERIES, NAMED_QUERY_NAMES, renderQuery, sqlString } from '../../../shared/queries';
import { DEFAULTS } from '../../../shared/runtime/deploy-config';
import { STACK_OUTPUTS } from '../../../shared/stack-outputs';
import { glueDatabaseName } from '../../../infra/sections/common';
import { preparedStatementName } from '../../../infra/sections/catalog';
import { US_EQUITIES_ALWAYS_OPEN_UTC } from '../../../infra/sections/market-hours';
import { arnText, referencedIds, resourcesOfType, synth, type Json, type Synth } from './template';

let s: Synth;
beforeAll(() => {
  s = synth();
}, 120_000);

const root = path.join(__dirname, '../../..');
const alarms = (from: Synth = s) => resourcesOfType(from, 'AWS::CloudWatch::Alarm');
const alarm = (prefix: string, from: Synth = s) => {
  const found = alarms(from).filter((a) => a.id.startsWith(prefix));
  expect(found).toHaveLength(1);
  return found[0]?.Properties ?? {};
};
type Query = { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] }; Stat: string } };
const queries = (props: Json): Query[] => (props.Metrics ?? []) as Query[];
const expressionOf = (props: Json): string => queries(props).find((q) => q.Expression !== undefined && (q as { ReturnData?: boolean }).ReturnData !== false)?.Expression ?? '';
const metricNames = (props: Json): string[] => queries(props).flatMap((q) => (q.MetricStat === undefined ? [] : [q.MetricStat.Metric.MetricName]));

describe('the ops topic reaches someone', () => {
  const topicPolicy = () => {
    const ops = resourcesOfType(s, 'AWS::SNS::TopicPolicy').find((p) => [...referencedIds(p.Properties.Topics)].some((id) => id.startsWith('OpsTopic')));
    return (ops?.Properties.PolicyDocument as { Statement: Json[] }).Statement;
  };

  test.each([
    ['cloudwatch.amazonaws.com', 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*'],
    ['budgets.amazonaws.com', 'arn:${AWS::Partition}:budgets::${AWS::AccountId}:*'],
  ])('%s may publish, for this account only (aws:SourceAccount, aws:SourceArn)', (service, sourceArn) => {
    const allow = topicPolicy().filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes(service));
    expect(allow).toHaveLength(1);
    expect(allow[0]?.Action).toBe('sns:Publish');
    const cond = allow[0]?.Condition as { StringEquals: Record<string, unknown>; ArnLike: Record<string, unknown> };
    expect(cond.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    expect(arnText(cond.ArnLike['aws:SourceArn'])).toBe(sourceArn);
  });

  test('the TLS deny stays, and nothing else may publish', () => {
    const st = topicPolicy();
    expect(st.filter((x) => x.Effect === 'Deny').map((x) => JSON.stringify(x.Condition))).toEqual(['{"Bool":{"aws:SecureTransport":"false"}}']);
    expect(st.filter((x) => x.Effect === 'Allow')).toHaveLength(2);
  });

  test('the ops key lets CloudWatch and Budgets encrypt the messages they publish', () => {
    const key = resourcesOfType(s, 'AWS::KMS::Key').find((k) => k.id.startsWith('OpsKey'));
    const st = (key?.Properties.KeyPolicy as { Statement: { Principal: { Service?: unknown }; Action: unknown }[] }).Statement;
    const services = st.flatMap((x) => (x.Principal.Service === undefined ? [] : [x.Principal.Service].flat()));
    expect(services).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']));
  });

  test('every alarm notifies the ops topic on ALARM and on OK (autoscaling\'s own alarms drive a scaling policy instead)', () => {
    const scalingPolicies = new Set(resourcesOfType(s, 'AWS::ApplicationAutoScaling::ScalingPolicy').map((p) => p.id));
    const forPeople = alarms().filter((a) => ![...referencedIds(a.Properties.AlarmActions)].some((id) => scalingPolicies.has(id)));
    expect(forPeople.length).toBeGreaterThanOrEqual(14);
    for (const a of forPeople) {
      for (const key of ['AlarmActions', 'OKActions']) expect({ id: a.id, key, to: [...referencedIds(a.Properties[key])] }).toEqual({ id: a.id, key, to: [expect.stringMatching(/^OpsTopic/)] });
    }
  });

  test('stack outputs name the ops topic for `npm run deploy`\'s subscriber check', () => {
    expect(Object.keys(s.template.findOutputs('OpsTopicArn'))).toEqual(['OpsTopicArn']);
  });

  test('stack outputs name what `npm run smoke` writes to and reads back', () => {
    for (const key of Object.values(STACK_OUTPUTS)) expect(Object.keys(s.template.findOutputs(key))).toEqual([key]);
    expect(s.template.findOutputs(STACK_OUTPUTS.alertsTableName)[STACK_OUTPUTS.alertsTableName]?.Value).toEqual({ Ref: expect.stringMatching(/^AlertsTable/) as unknown });
  });
});

describe('silence alarms someone', () => {
  test.each([
    ['NoTicksProducedAlarm', METRIC.ticksProduced, 'producer'],
    ['NoTicksProcessedAlarm', METRIC.ticksProcessed, 'consumer'],
  ])('%s: %s missing or zero for the configured minutes while the market is open is breaching', (id, metric, service) => {
    const a = alarm(id);
    expect(a).toMatchObject({ TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1, EvaluationPeriods: DEFAULTS.silenceAlarmMinutes / 5 });
    const m = queries(a).find((q) => q.MetricStat !== undefined)?.MetricStat;
    expect(m).toMatchObject({ Metric: { Namespace: METRICS_NAMESPACE, MetricName: metric, Dimensions: [{ Name: 'Service', Value: service }] }, Stat: 'Sum' });
    const expr = expressionOf(a);
    // Time comes from TIME_SERIES, not from the metric, which has no data points when the producer is dead.
    expect(expr).toBe(
      `IF(DAY(TIME_SERIES(0)) <= 5 AND (HOUR(TIME_SERIES(0)) * 60 + MINUTE(TIME_SERIES(0))) >= ${US_EQUITIES_ALWAYS_OPEN_UTC.fromMinute} AND (HOUR(TIME_SERIES(0)) * 60 + MINUTE(TIME_SERIES(0))) < ${US_EQUITIES_ALWAYS_OPEN_UTC.toMinute}, FILL(m, 0), 1)`,
    );
  });

  test('a synthetic source never sleeps: the silence alarms watch around the clock; no producer tasks, no silence alarms', () => {
    const synthetic = synth({ source: 'synthetic', silenceAlarmMinutes: '30' });
    const a = alarm('NoTicksProducedAlarm', synthetic);
    expect(expressionOf(a)).toBe('FILL(m, 0)');
    expect(a.EvaluationPeriods).toBe(6);
    const none = synth({ producerTasks: '0' });
    expect(alarms(none).filter((x) => x.id.startsWith('NoTicks'))).toEqual([]);
  }, 120_000);

  test('the UTC window lies inside the NYSE regular session (09:30-16:00 New York) on every weekday of a year, winter and summer time alike', () => {
    const ny = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', hour: '2-digit', minute: '2-digit', weekday: 'short' });
    const nyMinute = (ms: number): { minute: number; weekday: string } => {
      const parts = Object.fromEntries(ny.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
      return { minute: Number(parts.hour) * 60 + Number(parts.minute), weekday: String(parts.weekday) };
    };
    const { fromMinute, toMinute } = US_EQUITIES_ALWAYS_OPEN_UTC;
    for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2027, 0, 1); day += 86_400_000) {
      const weekday = new Date(day).getUTCDay();
      if (weekday === 0 || weekday === 6) continue;
      for (const m of [fromMinute, toMinute - 5]) {
        const at = nyMinute(day + m * 60_000);
        expect({ day: new Date(day).toISOString().slice(0, 10), m, open: at.minute >= 9 * 60 + 30 && at.minute < 16 * 60 }).toEqual({ day: new Date(day).toISOString().slice(0, 10), m, open: true });
      }
    }
  });
});

describe('throttling, tasks and the bill', () => {
  test('Kinesis write and read throttling alarm', () => {
    expect(alarm('KinesisWriteThrottleAlarm')).toMatchObject({ MetricName: 'WriteProvisionedThroughputExceeded', Namespace: 'AWS/Kinesis', Statistic: 'Sum', Threshold: 0 });
    expect(alarm('KinesisReadThrottleAlarm')).toMatchObject({ MetricName: 'ReadProvisionedThroughputExceeded', Namespace: 'AWS/Kinesis', Statistic: 'Sum', Threshold: 0 });
  });

  test.each([
    ['DynamoDbAppThrottleAlarm', 5],
    ['DynamoDbKclThrottleAlarm', 3],
  ])('%s watches read and write throttle events of its %d tables', (id, tables) => {
    const a = alarm(id);
    const stats = queries(a).flatMap((q) => (q.MetricStat === undefined ? [] : [q.MetricStat.Metric]));
    expect(stats.filter((m) => m.MetricName === 'ReadThrottleEvents')).toHaveLength(tables);
    expect(stats.filter((m) => m.MetricName === 'WriteThrottleEvents')).toHaveLength(tables);
    expect(stats.length).toBeLessThanOrEqual(10); // CloudWatch's limit per alarm
  });

  test('between them the throttling alarms cover every table of the stack', () => {
    const watched = new Set(
      ['DynamoDbAppThrottleAlarm', 'DynamoDbKclThrottleAlarm'].flatMap((id) =>
        queries(alarm(id)).flatMap((q) => (q.MetricStat?.Metric.Dimensions ?? []).flatMap((d) => [...referencedIds(d.Value)])),
      ),
    );
    expect(watched).toEqual(new Set(resourcesOfType(s, 'AWS::DynamoDB::Table').map((t) => t.id)));
  });

  test.each(['Consumer', 'Producer'])('%s tasks below desired for 15 minutes (Container Insights)', (svc) => {
    const a = alarm(`${svc}TasksBelowDesiredAlarm`);
    expect(metricNames(a).sort()).toEqual(['DesiredTaskCount', 'RunningTaskCount']);
    expect(expressionOf(a)).toBe('FILL(desired, 0) - FILL(running, 0)');
    expect(a).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Threshold: 0, EvaluationPeriods: 3 });
    const dims = queries(a).flatMap((q) => q.MetricStat?.Metric.Dimensions ?? []);
    expect(dims.filter((d) => d.Name === 'ServiceName').map((d) => JSON.stringify(d.Value))).toEqual([expect.stringContaining(`${svc}Service`), expect.stringContaining(`${svc}Service`)]);
  });

  test('an AWS Budgets budget at the context figure notifies the ops topic (and the alert e-mail) on actual and forecast spend', () => {
    const [b] = resourcesOfType(s, 'AWS::Budgets::Budget');
    expect(b?.Properties.Budget).toMatchObject({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: DEFAULTS.budgetUsdPerMonth, Unit: 'USD' } });
    const n = b?.Properties.NotificationsWithSubscribers as { Notification: Json; Subscribers: { SubscriptionType: string; Address: unknown }[] }[];
    expect(n.map((x) => x.Notification.NotificationType)).toEqual(['ACTUAL', 'FORECASTED']);
    for (const x of n) expect(x.Subscribers.map((sub) => [sub.SubscriptionType, [...referencedIds(sub.Address)]])).toEqual([['SNS', [expect.stringMatching(/^OpsTopic/)]]]);
    const mailed = synth({ budgetUsdPerMonth: '45', alertEmail: 'ops@example.com' });
    const [b2] = resourcesOfType(mailed, 'AWS::Budgets::Budget');
    expect((b2?.Properties.Budget as { BudgetLimit: Json }).BudgetLimit).toEqual({ Amount: 45, Unit: 'USD' });
    expect(JSON.stringify(b2?.Properties.NotificationsWithSubscribers)).toContain('{"Address":"ops@example.com","SubscriptionType":"EMAIL"}');
  }, 120_000);
});

describe('every metric an alarm or the dashboard names is emitted somewhere', () => {
  /** METRIC.<key> references in the code that emits EMF: producer/ and consumer/ (not tests, not shared/metrics.ts). */
  const emitted = (): Set<string> => {
    const out = new Set<string>();
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/\bMETRIC\.(\w+)\]:/g)) out.add(METRIC[m[1] as keyof typeof METRIC]);
      }
    };
    walk(path.join(root, 'producer'));
    walk(path.join(root, 'consumer'));
    return out;
  };
  const named = (): Set<string> => {
    const out = new Set<string>();
    for (const a of alarms()) {
      if (a.Properties.Namespace === METRICS_NAMESPACE) out.add(String(a.Properties.MetricName));
      for (const q of queries(a.Properties)) if (q.MetricStat?.Metric.Namespace === METRICS_NAMESPACE) out.add(q.MetricStat.Metric.MetricName);
    }
    const [dashboard] = resourcesOfType(s, 'AWS::CloudWatch::Dashboard');
    for (const m of JSON.stringify(dashboard?.Properties.DashboardBody).matchAll(/\\"Tickstream\\",\\"(\w+)\\"/g)) out.add(m[1] ?? '');
    return out;
  };

  test('alarms and dashboard read only metrics the producer or the consumer emits', () => {
    const e = emitted();
    expect([...named()].filter((n) => !e.has(n))).toEqual([]);
    expect(named().size).toBeGreaterThanOrEqual(8);
  });

  test('shared/metrics.ts lists no metric that nothing emits (AlertsDeduplicated was one)', () => {
    expect([...emitted()].sort()).toEqual(Object.values(METRIC).sort());
  });
});

describe('named queries and prepared statements give the CLI\'s answer', () => {
  const db = glueDatabaseName({ ...DEFAULTS, alertEmail: undefined, maxConsumerTasks: DEFAULTS.shards, profile: 'default' });

  test.each(NAMED_QUERY_NAMES)('prepared statement %s with (from, to) is exactly the query `npm run query --from --to` sends to Athena', (name) => {
    const statements = resourcesOfType(s, 'AWS::Athena::PreparedStatement').filter((p) => p.Properties.StatementName === preparedStatementName(name));
    expect(statements).toHaveLength(1);
    const sql = String(statements[0]?.Properties.QueryStatement);
    expect(sql.split('?')).toHaveLength(3); // two parameters, nothing else
    const [from, to] = ['2026-03-02', '2026-03-06'];
    let i = 0;
    const bound = sql.replace(/\?/g, () => sqlString([from, to][i++] ?? ''));
    expect(bound).toBe(renderQuery(NAMED_QUERIES[name].sql, athenaTable(db, true, { from, to })));
  });

  test.each(NAMED_QUERY_NAMES)('named query %s reads through SELECT DISTINCT and scans the last 7 days by default', (name) => {
    const q = resourcesOfType(s, 'AWS::Athena::NamedQuery').find((x) => x.Properties.Name === name);
    const sql = String(q?.Properties.QueryString);
    expect(sql).toContain(`(SELECT DISTINCT * FROM "${db}"."ticks" WHERE dt >= CAST(current_date - INTERVAL '6' DAY AS varchar)) ticks`);
    expect(sql).not.toContain('{{table}}');
    expect(String(q?.Properties.Description)).toContain(`EXECUTE ${preparedStatementName(name)} USING`);
  });

  test('the prepared statements\' range is the CLI\'s dt filter with placeholders', () => {
    expect(DT_RANGE_PARAMETERS).toBe(" WHERE dt >= ? AND dt <= ?");
  });
});
