/**
 * The pure parts of `npm run smoke` (scripts/smoke.ts): the ticks it puts
 * must raise exactly the alert it then looks for, on the pure core; the
 * stack's names are read from each shape the outputs come in. The run
 * against a consumer is test/integration/scripts/smoke.test.ts.
 */
import { alertId } from '../../../analytics/alerts';
import { SymbolAnalyzer } from '../../../analytics';
import { decodeTick, encodeTick } from '../../../shared/tick';
import { STACK_NAME } from '../../../shared/stack-outputs';
import { describeResult, smokeTargets, smokeTicks } from '../../../scripts/smoke';
import { parseOutputs } from '../../../shared/stack-outputs';

const NOW = Date.UTC(2026, 11, 1, 15, 0, 0);

test('the smoke ticks are valid and raise one ANOMALY alert, on the last tick, with the id smoke reads back', () => {
  const ticks = smokeTicks('ZZSMOKE', NOW);
  expect(ticks.map((t) => decodeTick(encodeTick(t)).ok)).toEqual([true, true, true, true, true]);
  const a = new SymbolAnalyzer('ZZSMOKE');
  const alerts = ticks.flatMap((t) => {
    const r = a.analyze(t);
    return r.kind === 'applied' ? r.alerts : [];
  });
  const last = ticks.at(-1)!;
  expect(alerts.map((x) => ({ type: x.type, ts: x.ts, id: x.id }))).toEqual([{ type: 'ANOMALY', ts: last.ts, id: alertId('ZZSMOKE', 'ANOMALY', last.ts) }]);
});

test('a second smoke run on the same symbol alerts again: its first ticks end the move the last run left active', () => {
  const a = new SymbolAnalyzer('ZZSMOKE');
  for (const t of smokeTicks('ZZSMOKE', NOW)) a.analyze(t);
  const again = smokeTicks('ZZSMOKE', NOW + 120_000).flatMap((t) => {
    const r = a.analyze(t);
    return r.kind === 'applied' ? r.alerts.map((x) => x.type) : [];
  });
  expect(again).toEqual(['ANOMALY']);
});

describe('the stack outputs, in each shape', () => {
  const values = { StreamName: 's', LatestTableName: 'l', TicksTableName: 't', AlertsTableName: 'a', AlertTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts' };
  const expected = { streamName: 's', latestTable: 'l', ticksTable: 't', alertsTable: 'a', region: 'eu-west-1' };
  const list = Object.entries(values).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue, Description: 'x' }));

  test.each([
    ['cdk --outputs-file', { [STACK_NAME]: values, Other: { StreamName: 'no' } }],
    ['describe-stacks', { Stacks: [{ StackName: STACK_NAME, Outputs: list }] }],
    ['describe-stacks --query Stacks[0].Outputs', list],
  ])('%s', (_, json) => {
    expect(smokeTargets(parseOutputs(json))).toEqual(expected);
  });

  test('without a ticks table (-c ticksTable=false) the ticks check is skipped, and the verdict says so', () => {
    const { TicksTableName: _omit, ...rest } = values;
    const t = smokeTargets(rest);
    expect(t.ticksTable).toBeUndefined();
    const lines = describeResult({ ok: true, checks: [{ name: 'latest (l)', ok: true, detail: 'ZZSMOKE at ts 1' }] }, t);
    expect(lines).toEqual(['ok      latest (l): ZZSMOKE at ts 1', expect.stringMatching(/^skipped ticks: the stack has no ticks table/) as unknown, 'smoke: PASS']);
  });

  test('a missing output is named, with what to do', () => {
    const { AlertsTableName: _omit, ...rest } = values;
    expect(() => smokeTargets(rest)).toThrow(`the ${STACK_NAME} outputs have no AlertsTableName: deploy the current stack (npm run deploy) and try again`);
    expect(() => parseOutputs({ Nope: 1 })).toThrow(/not a Tickstream outputs file/);
  });
});
