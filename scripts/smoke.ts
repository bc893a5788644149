/**
 * `npm run smoke [-- --outputs FILE] [--symbol SYM] [--timeout-s N]`: is the
 * deployed pipeline alive, end to end?
 *
 * Puts a handful of ticks of one test symbol (ZZSMOKE) on the stream through
 * the producer's own Kinesis writer, the last one 7 % above its previous
 * close, which must raise a >5 % move alert (ANOMALY); then waits, bounded
 * and printing progress, until the consumer has stored the last tick in
 * `latest`, every tick in `ticks` (when the stack has that table) and the
 * alert in the alert ledger (the `alerts` table, written before SNS publishes
 * it: what a read-only check can see). Exit 0 when all is there, 1 naming
 * what is missing.
 *
 * Names come from the stack's outputs (shared/stack-outputs.ts), as
 * `npm run deploy` reads them: the file it leaves (tickstream-outputs.json),
 * any file `cdk deploy --outputs-file` writes, or what
 * `aws cloudformation describe-stacks` prints. Endpoints can be aimed at
 * emulators with the variables the tasks use (TICKSTREAM_KINESIS_ENDPOINT,
 * TICKSTREAM_DYNAMODB_ENDPOINT); the test does (test/integration/scripts/smoke.test.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { GetItemCommand, QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { alertId } from '../analytics/alerts';
import { dynamoClient, kinesisClient } from '../shared/aws';
import { describeError } from '../shared/describe-error';
import { ENV } from '../shared/env-names';
import { httpUrl, optional, readSettings, text, type Env } from '../shared/runtime/config';
import { OUTPUTS_FILE, parseOutputs, STACK_NAME, STACK_OUTPUTS } from '../shared/stack-outputs';
import { SYMBOL_RE, TICK_SCHEMA_VERSION, type Tick } from '../shared/tick';
import { KinesisWriter } from '../producer/kinesis-writer';

export interface SmokeTargets {
  readonly streamName: string;
  readonly latestTable: string;
  /** undefined: the stack has no ticks table (`-c ticksTable=false`). */
  readonly ticksTable: string | undefined;
  readonly alertsTable: string;
  /** From the alert topic's ARN, when the outputs have it. */
  readonly region: string | undefined;
}

export function smokeTargets(outputs: Readonly<Record<string, string>>): SmokeTargets {
  const need = (key: string): string => {
    const v = outputs[key];
    if (v === undefined || v === '') throw new Error(`the ${STACK_NAME} outputs have no ${key}: deploy the current stack (npm run deploy) and try again`);
    return v;
  };
  const topic = outputs[STACK_OUTPUTS.alertTopicArn];
  return {
    streamName: need(STACK_OUTPUTS.streamName),
    latestTable: need(STACK_OUTPUTS.latestTableName),
    ticksTable: outputs[STACK_OUTPUTS.ticksTableName],
    alertsTable: need(STACK_OUTPUTS.alertsTableName),
    region: topic?.split(':')[3] || undefined,
  };
}

/** Price of the last tick against the previous close: above the analyzer's 5 % move threshold. */
const MOVE = 1.07;

/**
 * `count` ticks of `symbol`, 1 s apart and ending at `now`: all but the last
 * within 1 % of the previous close (they also end a move left active by an
 * earlier smoke run, so the last tick's move is a new one), the last 7 % up.
 */
export function smokeTicks(symbol: string, now: number, count = 5): Tick[] {
  const previousClose = 100;
  return Array.from({ length: count }, (_, i) => {
    const last = i === count - 1;
    return {
      v: TICK_SCHEMA_VERSION,
      symbol,
      ts: now - (count - 1 - i) * 1000,
      price: last ? previousClose * MOVE : previousClose + i * 0.1,
      volume: 100,
      previousClose,
      source: 'synthetic' as const,
      producedAt: now,
    };
  });
}

export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface SmokeResult {
  readonly ok: boolean;
  readonly checks: readonly SmokeCheck[];
}

export interface SmokeOptions {
  readonly targets: SmokeTargets;
  readonly kinesis: KinesisClient;
  readonly dynamo: DynamoDBClient;
  readonly symbol?: string;
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  readonly now?: () => number;
  readonly log?: (line: string) => void;
}

/** Puts the ticks, then polls every check until all pass or the time is up. */
export async function runSmoke(o: SmokeOptions): Promise<SmokeResult> {
  const symbol = o.symbol ?? 'ZZSMOKE';
  if (!SYMBOL_RE.test(symbol)) throw new Error(`--symbol ${symbol}: not a ticker the pipeline accepts`);
  const log = o.log ?? ((): void => undefined);
  const now = o.now ?? Date.now;
  const ticks = smokeTicks(symbol, now());
  const last = ticks[ticks.length - 1]!;
  const writer = new KinesisWriter(o.kinesis, { streamName: o.targets.streamName, maxTicksPerRecord: 1, maxAttempts: 5 });
  await writer.write(ticks);
  log(`put ${ticks.length} ticks of ${symbol} on ${o.targets.streamName} (ts ${ticks[0]!.ts}..${last.ts}; the last ${Math.round((MOVE - 1) * 100)} % above its previous close)`);

  const id = alertId(symbol, 'ANOMALY', last.ts);
  const checks = async (): Promise<SmokeCheck[]> => {
    const out: SmokeCheck[] = [];
    const latest = await o.dynamo.send(new GetItemCommand({ TableName: o.targets.latestTable, Key: { symbol: { S: symbol } }, ConsistentRead: true }));
    const latestTs = Number(latest.Item?.ts?.N ?? NaN);
    out.push({
      name: `latest (${o.targets.latestTable})`,
      ok: latestTs >= last.ts,
      detail: latest.Item === undefined ? `no row for ${symbol}` : `${symbol} at ts ${latestTs}, price ${latest.Item.price?.N ?? '?'}${latestTs >= last.ts ? '' : ` (waiting for ts ${last.ts})`}`,
    });
    if (o.targets.ticksTable !== undefined) {
      const q = await o.dynamo.send(
        new QueryCommand({
          TableName: o.targets.ticksTable,
          KeyConditionExpression: 'symbol = :s AND ts BETWEEN :a AND :b',
          ExpressionAttributeValues: { ':s': { S: symbol }, ':a': { N: String(ticks[0]!.ts) }, ':b': { N: String(last.ts) } },
          ConsistentRead: true,
        }),
      );
      const n = q.Items?.length ?? 0;
      out.push({ name: `ticks (${o.targets.ticksTable})`, ok: n === ticks.length, detail: `${n} of ${ticks.length} rows` });
    }
    const alert = await o.dynamo.send(new GetItemCommand({ TableName: o.targets.alertsTable, Key: { alert_id: { S: id } }, ConsistentRead: true }));
    out.push({ name: `alert (${o.targets.alertsTable})`, ok: alert.Item !== undefined, detail: alert.Item === undefined ? `no ANOMALY alert ${id} for ts ${last.ts}` : `ANOMALY ${id} recorded` });
    return out;
  };

  const timeoutMs = o.timeoutMs ?? 180_000;
  const started = Date.now();
  let seen: SmokeCheck[] = [];
  for (;;) {
    try {
      seen = await checks();
    } catch (err) {
      seen = [{ name: 'read back', ok: false, detail: describeError(err) }];
    }
    const waited = Math.round((Date.now() - started) / 1000);
    if (seen.every((c) => c.ok)) {
      log(`all there after ${waited} s`);
      return { ok: true, checks: seen };
    }
    if (Date.now() - started >= timeoutMs) return { ok: false, checks: seen };
    log(`${waited} s: waiting for ${seen.filter((c) => !c.ok).map((c) => c.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, o.pollMs ?? 5000));
  }
}

/** The lines `npm run smoke` ends with: each check, then the verdict. */
export function describeResult(r: SmokeResult, t: SmokeTargets): string[] {
  const lines = r.checks.map((c) => `${c.ok ? 'ok     ' : 'MISSING'} ${c.name}: ${c.detail}`);
  if (t.ticksTable === undefined) lines.push('skipped ticks: the stack has no ticks table (-c ticksTable=false); the lake is not checked (Firehose buffers for minutes), `latest` and the alert prove the consumer ran');
  lines.push(r.ok ? 'smoke: PASS' : `smoke: FAIL - missing: ${r.checks.filter((c) => !c.ok).map((c) => c.name).join(', ')}. Is the consumer service running (desired = running tasks)? Its log: aws logs tail <ConsumerLogGroup output> --since 10m --filter-pattern '{ $.level = "error" }'`);
  return lines;
}

function parseArgs(args: readonly string[]): { outputs: string; symbol: string | undefined; timeoutMs: number } {
  let outputs = OUTPUTS_FILE;
  let symbol: string | undefined;
  let timeoutMs = 180_000;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = args[i + 1];
    if (v === undefined) throw new Error(`${a ?? ''} needs a value`);
    if (a === '--outputs') outputs = v;
    else if (a === '--symbol') symbol = v;
    else if (a === '--timeout-s' && /^[1-9][0-9]*$/.test(v)) timeoutMs = Number(v) * 1000;
    else throw new Error(`unknown or bad option ${a} ${v} (usage: npm run smoke -- [--outputs FILE] [--symbol SYM] [--timeout-s N])`);
    i++;
  }
  return { outputs, symbol, timeoutMs };
}

/** The whole command; returns its exit code. */
export async function main(args: readonly string[], env: Env, print: (line: string) => void): Promise<number> {
  const a = parseArgs(args);
  const s = readSettings(
    {
      region: { env: ENV.region, schema: optional(text()) },
      kinesisEndpoint: { env: ENV.kinesisEndpoint, schema: optional(httpUrl()) },
      dynamodbEndpoint: { env: ENV.dynamodbEndpoint, schema: optional(httpUrl()) },
    },
    { env },
  );
  const file = path.resolve(a.outputs);
  if (!fs.existsSync(file)) {
    print(`smoke: no ${file}. \`npm run deploy\` writes it; or: aws cloudformation describe-stacks --stack-name ${STACK_NAME} > ${OUTPUTS_FILE}`);
    return 1;
  }
  const targets = smokeTargets(parseOutputs(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown));
  const region = s.region ?? targets.region ?? 'us-east-1';
  const kinesis = kinesisClient({ region, ...(s.kinesisEndpoint !== undefined ? { endpoint: s.kinesisEndpoint } : {}) });
  const dynamo = dynamoClient({ region, ...(s.dynamodbEndpoint !== undefined ? { endpoint: s.dynamodbEndpoint } : {}) });
  try {
    const r = await runSmoke({ targets, kinesis, dynamo, timeoutMs: a.timeoutMs, log: print, ...(a.symbol !== undefined ? { symbol: a.symbol } : {}) });
    for (const l of describeResult(r, targets)) print(l);
    return r.ok ? 0 : 1;
  } finally {
    kinesis.destroy();
    dynamo.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, (l) => process.stdout.write(`${l}\n`)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`smoke: ${describeError(err)}\n`);
      process.exitCode = 1;
    },
  );
}
