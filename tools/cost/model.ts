/**
 * The monthly bill of one deployed stack, priced from the same configuration
 * the CDK app synthesizes (shared/runtime/deploy-config.ts) and a workload
 * (ticks per day, symbols, whether a live dashboard is open). Pure: no I/O,
 * so every lever can be moved in a unit test and its line watched.
 *
 * What is counted, per tick and per clock tick of every loop the app and the
 * KCL run, is stated next to each constant; the assumptions a reader may
 * disagree with are the constants themselves.
 */
import { LEADER_LOCK_DEFAULTS } from '../../consumer/kcl/properties';
import { consumerTaskSize, FIREHOSE_PACK_BYTES, type InfraConfig } from '../../shared/runtime/deploy-config';
import { PRICES } from './prices';
import { DASHBOARD_POLLING } from '../../shared/dashboard-polling';

export interface Workload {
  readonly ticksPerDay: number;
  readonly symbols: number;
  /** A live dashboard open through market hours (README, "Monthly cost"). */
  readonly dashboard: boolean;
}

interface CostItem {
  readonly item: string;
  readonly usd_per_month: number;
  /** How the figure was reached, in words and numbers. */
  readonly detail: string;
}

export interface CostReport {
  readonly total_usd_per_month: number;
  readonly items: readonly CostItem[];
}

/** Days billed per month (every calendar day: the tasks and shards run on weekends too; ticks are assumed on every day). */
const DAYS_PER_MONTH = 30;
const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
/** Ticks arrive in US market hours (9:30-16:00 ET): the rate that sizes shards and tasks. */
const MARKET_SECONDS_PER_DAY = 6.5 * 3600;

/** A tick on Kinesis (JSON, one per record at one tick per symbol per poll): one 25 KB PUT unit. */
const KINESIS_RECORD_BYTES = 250;
/** One enriched row as JSON to Firehose (consumer/sinks/rows.ts; checked in test/unit/tools/cost.test.ts). */
export const ROW_JSON_BYTES = 600;
/** One row in Snappy Parquet in the lake. */
const PARQUET_BYTES_PER_ROW = 80;
/** A `ticks` or `latest` item (the row's columns as attributes): under 1 KB, one WRU. */
const ROW_ITEM_BYTES = 650;
/**
 * A state snapshot item: the v2 snapshot is at most 769 B whatever its values
 * (analytics/state-codec.ts), with the key and last_ts under 1 KB: one WRU
 * (test/unit/tools/cost.test.ts measures the fullest one).
 */
export const STATE_ITEM_WRU = 1;
/** Crossovers, >5 % moves and volume spikes together, per symbol per day (one conditional put and one SNS publish each). */
const ALERTS_PER_SYMBOL_PER_DAY = 2;
/** Consumer throughput one vCPU sustains at the autoscaling CPU target (60 %), ticks/s: I/O-bound (a DynamoDB write per tick). */
const CONSUMER_TICKS_PER_VCPU_SECOND = 1000;
/** Producer task size (infra/sections/producer-service.ts). */
const PRODUCER_VCPU = 0.25;
const PRODUCER_GB = 0.5;
/** The producer's symbol groups (producer/config.ts) and heartbeat: each heartbeat is one consistent Scan and one UpdateItem per held group. */
const PRODUCER_GROUPS = 16;
const PRODUCER_HEARTBEAT_S = 5;

/**
 * The KCL's own DynamoDB traffic (consumer/kcl/properties.ts; KCL 3 defaults):
 * each lease renewed every failoverTime/3, every worker's lease taker scans
 * the lease table every 2 x failoverTime, every worker reports its metrics
 * every 30 s, the leader renews its lock every heartbeat and assigns leases
 * every 2 x failoverTime (a scan of the lease and worker-metrics tables),
 * the others read the lock every heartbeat. Checkpoints are priced with the
 * checkpoint cadence.
 */
const KCL_FAILOVER_S = 10;
const KCL_WORKER_METRICS_S = 30;
const KCL_LEADER_HEARTBEAT_S = LEADER_LOCK_DEFAULTS.aws.heartbeatMs / 1000;

/** JQ time dynamic partitioning bills, per GB it parses (the `{dt: .dt}` query on ~600 B rows). */
const JQ_HOURS_PER_GB = 0.025;
/** Log volume: the app's JSON lines and EMF metrics per task-hour, and per tick at info level. */
const LOG_BYTES_PER_TASK_HOUR = 2_000_000;
const LOG_BYTES_PER_TICK = 20;
/** EMF metrics: names in shared/metrics.ts x the Service dimension, as emitted. */
const EMF_METRICS = 15;
/** Container Insights (standard) on ECS: metrics per cluster and per service, and performance-log bytes per task-hour. */
const CONTAINER_INSIGHTS_METRICS = (services: number): number => 8 + 10 * services;
const CONTAINER_INSIGHTS_LOG_BYTES_PER_TASK_HOUR = 500_000;
/** Alarms and dashboards the stack creates (infra/sections/monitoring.ts). */
const ALARMS = 10;
const DASHBOARDS = 1;
/** The two images in ECR. */
const IMAGE_GB = 0.6;
/** KMS: each encrypted resource asks for a data key about every 5 minutes per client (SDK and service caches). */
const KMS_CALLERS_PER_TASK = 6;

const TRADING_DAYS_PER_MONTH = 21;
/** A dashboard whose pages are left open through market hours on every trading day. */
const DASHBOARD_HOURS_PER_MONTH = 6.5 * TRADING_DAYS_PER_MONTH;
/** What it reads and how often: the AWS source's own numbers (dashboard/aws-source.ts runs on them). */
const DASHBOARD_POLL_S = DASHBOARD_POLLING.latestPollS;
/** At most one Athena history query (a chart) per interval, each billed at least 10 MB. */
const DASHBOARD_ATHENA_QUERIES_PER_HOUR = 3600 / DASHBOARD_POLLING.athenaMinIntervalS;
const ATHENA_MIN_BYTES = 10 * 1024 * 1024;

const GB = 1024 ** 3;
const round2 = (x: number): number => Math.round(x * 100) / 100;
const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const millions = (x: number): string => `${fmt(x / 1e6, x < 1e7 ? 2 : 1)}M`;

/** Ticks a symbol gets per day, and the checkpoints (during market hours) in which it is touched: one snapshot each. */
function snapshotsPerDay(cfg: Pick<InfraConfig, 'checkpointMs'>, w: Pick<Workload, 'ticksPerDay' | 'symbols'>): number {
  const perSymbol = w.ticksPerDay / w.symbols;
  const checkpoints = MARKET_SECONDS_PER_DAY / (cfg.checkpointMs / 1000);
  return w.symbols * Math.min(perSymbol, checkpoints);
}

/** Consumer tasks autoscaling settles on: enough vCPU for the peak rate, within its bounds. */
function consumerTasks(cfg: InfraConfig, w: Pick<Workload, 'ticksPerDay'>): number {
  const peak = w.ticksPerDay / MARKET_SECONDS_PER_DAY;
  const need = Math.ceil(peak / (CONSUMER_TICKS_PER_VCPU_SECOND * (cfg.consumerCpu / 1024)));
  return Math.min(cfg.maxConsumerTasks, Math.max(cfg.minConsumerTasks, need));
}

/**
 * The alerts page's reads of the by_day index while the page is open: a
 * Query of today's partition per poll (market hours fall inside one UTC
 * day) reads what was published in the lateness window and since the last
 * poll, up to the limit: half an RRU per 4 KB (eventually consistent, as
 * every index read is), at least one half. And the first read once a
 * trading day: the limit's worth, and a Query per day looked back at most.
 */
export function dashboardAlertReads(symbols: number): { entriesPerPoll: number; rruPerPoll: number; rruPerMonth: number } {
  const D = DASHBOARD_POLLING;
  const polls = (DASHBOARD_HOURS_PER_MONTH * 3600) / D.alertsPollS;
  const perS = (symbols * ALERTS_PER_SYMBOL_PER_DAY) / MARKET_SECONDS_PER_DAY;
  const entriesPerPoll = Math.min(D.alertsLimit, perS * (D.alertsLateS + D.alertsPollS));
  const rruPerPoll = Math.max(1, Math.ceil((entriesPerPoll * D.alertIndexItemBytes) / 4096)) * 0.5;
  const firstRead = Math.ceil((D.alertsLimit * D.alertIndexItemBytes) / 4096) * 0.5 + D.alertsLookbackDays * 0.5;
  return { entriesPerPoll, rruPerPoll, rruPerMonth: polls * rruPerPoll + TRADING_DAYS_PER_MONTH * firstRead };
}

export function monthlyCost(cfg: InfraConfig, w: Workload): CostReport {
  const items: CostItem[] = [];
  const add = (item: string, usd: number, detail: string): void => void items.push({ item, usd_per_month: round2(usd), detail });
  const P = PRICES;
  const ticks = w.ticksPerDay * DAYS_PER_MONTH;
  const size = consumerTaskSize(cfg);
  const cTasks = consumerTasks(cfg, w);
  const pTasks = cfg.producerTasks;
  const tasks = cTasks + pTasks;

  // Kinesis
  if (cfg.streamMode === 'provisioned') {
    add('Kinesis shard-hours', cfg.shards * HOURS_PER_MONTH * P.kinesisShardHour.usd, `${cfg.shards} shard(s) x ${HOURS_PER_MONTH} h x $${P.kinesisShardHour.usd}`);
    add('Kinesis PUT payload units', (ticks / 1e6) * P.kinesisPutUnitMillion.usd, `${millions(ticks)} records (one tick each) x $${P.kinesisPutUnitMillion.usd}/M`);
  } else {
    const gb = (ticks * Math.max(KINESIS_RECORD_BYTES, 1024)) / GB;
    add('Kinesis on-demand stream-hours', HOURS_PER_MONTH * P.kinesisOnDemandStreamHour.usd, `${HOURS_PER_MONTH} h x $${P.kinesisOnDemandStreamHour.usd}`);
    add('Kinesis on-demand data in/out', gb * (P.kinesisOnDemandIngestGb.usd + P.kinesisOnDemandRetrieveGb.usd), `${fmt(gb, 1)} GB (1 KB minimum per record) x ($${P.kinesisOnDemandIngestGb.usd} + $${P.kinesisOnDemandRetrieveGb.usd})`);
  }

  // Fargate
  const fargate = (vcpu: number, gb: number, arm: boolean, spot: boolean): number =>
    spot ? vcpu * P.fargateSpotVcpuHour.usd + gb * P.fargateSpotGbHour.usd : arm ? vcpu * P.fargateArmVcpuHour.usd + gb * P.fargateArmGbHour.usd : vcpu * P.fargateX86VcpuHour.usd + gb * P.fargateX86GbHour.usd;
  const kind = (arm: boolean, spot: boolean): string => (spot ? 'x86 Spot' : arm ? 'ARM64' : 'x86');
  const pArm = cfg.arm64 && !cfg.producerSpot;
  add(
    'Fargate producer',
    pTasks * HOURS_PER_MONTH * fargate(PRODUCER_VCPU, PRODUCER_GB, pArm, cfg.producerSpot),
    `${pTasks} task(s) x ${HOURS_PER_MONTH} h x ${PRODUCER_VCPU} vCPU / ${PRODUCER_GB} GB ${kind(pArm, cfg.producerSpot)}`,
  );
  const cVcpu = size.cpu / 1024;
  const cGb = size.memoryMiB / 1024;
  const cArm = cfg.arm64 && !cfg.consumerSpot;
  add(
    'Fargate consumer',
    cTasks * HOURS_PER_MONTH * fargate(cVcpu, cGb, cArm, cfg.consumerSpot),
    `${cTasks} task(s) x ${HOURS_PER_MONTH} h x ${cVcpu} vCPU / ${cGb} GB ${kind(cArm, cfg.consumerSpot)} (${size.maxLeasesForWorker} lease(s) per worker)`,
  );

  // Network: NAT gateway(s) and what crosses them, or a public IP per task.
  const natBytesPerTick = KINESIS_RECORD_BYTES + ROW_JSON_BYTES + LOG_BYTES_PER_TICK;
  if (cfg.natGateways > 0) {
    const natGb = (ticks * natBytesPerTick) / GB;
    add('NAT gateway hours', cfg.natGateways * HOURS_PER_MONTH * P.natGatewayHour.usd, `${cfg.natGateways} x ${HOURS_PER_MONTH} h x $${P.natGatewayHour.usd}`);
    add('NAT gateway data', natGb * P.natGatewayGb.usd, `${fmt(natGb, 1)} GB (Kinesis, Firehose, logs; DynamoDB and S3 use free gateway endpoints) x $${P.natGatewayGb.usd}`);
    add('Public IPv4 (NAT gateways)', cfg.natGateways * HOURS_PER_MONTH * P.publicIpv4Hour.usd, `${cfg.natGateways} address(es) x ${HOURS_PER_MONTH} h x $${P.publicIpv4Hour.usd}`);
  } else {
    add('Public IPv4 (tasks, no NAT)', tasks * HOURS_PER_MONTH * P.publicIpv4Hour.usd, `${tasks} task(s) x ${HOURS_PER_MONTH} h x $${P.publicIpv4Hour.usd}`);
  }

  // DynamoDB writes, table by table.
  const wru = (n: number): number => (n / 1e6) * P.dynamoWriteMillion.usd;
  const rru = (n: number): number => (n / 1e6) * P.dynamoReadMillion.usd;
  add('DynamoDB latest writes', wru(ticks), `${millions(ticks)} ticks x 1 WRU (one PutItem per tick: a symbol ticks once per poll)`);
  if (cfg.ticksTable) add('DynamoDB ticks writes', wru(ticks), `${millions(ticks)} ticks x 1 WRU`);
  const snaps = snapshotsPerDay(cfg, w) * DAYS_PER_MONTH;
  add(
    'DynamoDB state snapshots',
    wru(snaps * STATE_ITEM_WRU),
    `${millions(snaps)} snapshots (each symbol touched per ${cfg.checkpointMs / 1000} s checkpoint: min(ticks, checkpoints) per symbol-day) x ${STATE_ITEM_WRU} WRU`,
  );
  const alerts = w.symbols * ALERTS_PER_SYMBOL_PER_DAY * DAYS_PER_MONTH;
  // the index entry: markPublished writes the alert's `day`, which puts it in the by_day index (shared/tables.ts), one more WRU
  add('DynamoDB alert dedup writes', wru(alerts * 2), `${fmt(alerts)} alerts x 2 WRU (conditional put, its by_day index entry)`);
  // KCL: renewals (24/7 per lease), checkpoints (market hours, per shard), worker metrics, leader lock, scans.
  const leases = cfg.streamMode === 'provisioned' ? cfg.shards : cfg.maxConsumerTasks;
  const renewals = leases * (SECONDS_PER_MONTH / (KCL_FAILOVER_S / 3));
  const kclCheckpoints = leases * (MARKET_SECONDS_PER_DAY / (cfg.checkpointMs / 1000)) * DAYS_PER_MONTH;
  const workerMetrics = cTasks * (SECONDS_PER_MONTH / KCL_WORKER_METRICS_S);
  const leaderLock = SECONDS_PER_MONTH / KCL_LEADER_HEARTBEAT_S;
  const kclWrites = renewals + kclCheckpoints + workerMetrics + leaderLock;
  const kclScans = cTasks * (SECONDS_PER_MONTH / (2 * KCL_FAILOVER_S)) + 2 * (SECONDS_PER_MONTH / (2 * KCL_FAILOVER_S)) + (cTasks - 1) * leaderLock;
  add(
    'DynamoDB KCL leases and checkpoints',
    wru(kclWrites) + rru(kclScans),
    `${millions(renewals)} lease renewals + ${millions(kclCheckpoints)} checkpoints + ${millions(workerMetrics + leaderLock)} worker-metric and leader-lock writes (1 WRU each), ${millions(kclScans)} scans/lock reads (1 RRU)`,
  );
  if (pTasks > 1) {
    // One producer task runs without leases (infra/sections/producer-service.ts).
    const prodWrites = PRODUCER_GROUPS * (SECONDS_PER_MONTH / PRODUCER_HEARTBEAT_S);
    const prodScans = pTasks * (SECONDS_PER_MONTH / PRODUCER_HEARTBEAT_S);
    add('DynamoDB producer leases', wru(prodWrites) + rru(prodScans), `${PRODUCER_GROUPS} groups renewed every ${PRODUCER_HEARTBEAT_S} s: ${millions(prodWrites)} WRU + ${millions(prodScans)} scans`);
  }
  // Storage: `ticks` holds ticksTtlDays of rows; the rest is a row per symbol.
  const storedGb = ((cfg.ticksTable ? w.ticksPerDay * cfg.ticksTtlDays : 0) * ROW_ITEM_BYTES + w.symbols * 2 * 1024) / GB;
  add('DynamoDB storage + PITR', storedGb * (P.dynamoStorageGbMonth.usd + P.dynamoPitrGbMonth.usd), `${fmt(storedGb, 2)} GB x ($${P.dynamoStorageGbMonth.usd} + $${P.dynamoPitrGbMonth.usd})`);

  // Firehose: billed per record rounded up to 5 KB.
  const rowsPerRecord = cfg.firehosePack ? Math.max(1, Math.floor(FIREHOSE_PACK_BYTES / ROW_JSON_BYTES)) : 1;
  const records = ticks / rowsPerRecord;
  const billedGb = (records * 5 * 1024) / GB;
  add(
    'Firehose ingestion + Parquet conversion',
    billedGb * (P.firehoseIngestGb.usd + P.firehoseConversionGb.usd),
    `${millions(records)} records (${rowsPerRecord} row(s) each) x 5 KB = ${fmt(billedGb, 1)} GB x ($${P.firehoseIngestGb.usd} + $${P.firehoseConversionGb.usd})`,
  );
  const rawGb = (ticks * ROW_JSON_BYTES) / GB;
  // One object per partition (day) per buffer flush (300 s) per worker's traffic; at least a day's worth of flushes.
  const objects = DAYS_PER_MONTH * (86_400 / 300);
  const jqHours = rawGb * JQ_HOURS_PER_GB;
  add(
    'Firehose dynamic partitioning',
    rawGb * P.firehosePartitionGb.usd + (objects / 1000) * P.firehosePartitionObjectsThousand.usd + jqHours * P.firehoseJqHour.usd,
    `${fmt(rawGb, 1)} GB + ${fmt(objects)} objects + ~${fmt(jqHours, 1)} JQ-hours`,
  );

  // S3: the lake grows; priced at the size it reaches after 90 days, plus the PUTs.
  const lakeGb = (w.ticksPerDay * 90 * PARQUET_BYTES_PER_ROW) / GB;
  add('S3 lake', lakeGb * P.s3StandardGbMonth.usd + (objects / 1000) * P.s3PutThousand.usd, `${fmt(lakeGb, 2)} GB (90 days of Parquet) x $${P.s3StandardGbMonth.usd} + ${fmt(objects)} PUTs`);

  // CloudWatch
  const logGb = (tasks * HOURS_PER_MONTH * LOG_BYTES_PER_TASK_HOUR + ticks * LOG_BYTES_PER_TICK) / GB;
  add('CloudWatch Logs', logGb * (P.logsIngestGb.usd + P.logsStorageGbMonth.usd), `${fmt(logGb, 1)} GB ingested x $${P.logsIngestGb.usd} (+ storage)`);
  add('CloudWatch EMF metrics', EMF_METRICS * P.metricMonth.usd, `${EMF_METRICS} metrics x $${P.metricMonth.usd}`);
  if (cfg.containerInsights) {
    const ciMetrics = CONTAINER_INSIGHTS_METRICS(2);
    const ciGb = (tasks * HOURS_PER_MONTH * CONTAINER_INSIGHTS_LOG_BYTES_PER_TASK_HOUR) / GB;
    add('Container Insights', ciMetrics * P.metricMonth.usd + ciGb * P.logsIngestGb.usd, `${ciMetrics} metrics x $${P.metricMonth.usd} + ${fmt(ciGb, 2)} GB performance logs`);
  }
  add('CloudWatch alarms + dashboard', ALARMS * P.alarmMonth.usd + DASHBOARDS * P.dashboardMonth.usd, `${ALARMS} alarms x $${P.alarmMonth.usd} + ${DASHBOARDS} dashboard x $${P.dashboardMonth.usd}`);

  // KMS, SNS, SQS, ECR
  const kmsRequests = (tasks * KMS_CALLERS_PER_TASK + 4) * (SECONDS_PER_MONTH / 300);
  add('KMS', 2 * P.kmsKeyMonth.usd + (kmsRequests / 10_000) * P.kmsRequestsTenThousand.usd, `2 keys x $${P.kmsKeyMonth.usd} + ${millions(kmsRequests)} requests`);
  add(
    'SNS alerts, SQS, ECR',
    (alerts / 1e6) * P.snsPublishMillion.usd + (alerts / 1e5) * P.snsEmailHundredThousand.usd + IMAGE_GB * P.ecrStorageGbMonth.usd,
    `${fmt(alerts)} publishes (+ one e-mail each), ${IMAGE_GB} GB of images; dead letters ~0`,
  );

  if (w.dashboard) {
    // One browser with every page open through market hours (the AWS source reads only what open pages show):
    // a line per page, so a person can price the pages they keep open. No page open, no read.
    const D = DASHBOARD_POLLING;
    const openS = DASHBOARD_HOURS_PER_MONTH * 3600;
    const open = `open ${fmt(DASHBOARD_HOURS_PER_MONTH, 1)} h (market hours, ${TRADING_DAYS_PER_MONTH} trading days)`;
    // A Scan of every symbol's `latest` item (up to the cap), eventually consistent: half an RRU per 4 KB read.
    const rows = Math.min(w.symbols, D.latestScanCap);
    const marketRru = (openS / DASHBOARD_POLL_S) * Math.ceil((rows * D.latestItemBytes) / 4096) * 0.5;
    add('Dashboard market page', rru(marketRru), `${open}: ${fmt(rows)} latest rows scanned every ${DASHBOARD_POLL_S} s (${millions(marketRru)} RRU)`);
    // A chart opened every minute: at most one Athena query a minute (the source's own bound), and the ticks Query of its recent history.
    const queries = DASHBOARD_HOURS_PER_MONTH * DASHBOARD_ATHENA_QUERIES_PER_HOUR;
    const scannedTb = (queries * Math.max(ATHENA_MIN_BYTES, (w.ticksPerDay * PARQUET_BYTES_PER_ROW) / 10)) / 1024 ** 4;
    const ticksRru = cfg.ticksTable ? queries * Math.ceil((Math.min(D.ticksQueryLimit, w.ticksPerDay / w.symbols) * ROW_ITEM_BYTES) / 4096) * 0.5 : 0;
    // its live row comes with the market page's Scan; a symbol page alone reads its row by key (one item, half an RRU) each poll
    const aloneRru = (openS / DASHBOARD_POLL_S) * 0.5;
    add(
      'Dashboard symbol page',
      scannedTb * P.athenaTb.usd + ((queries * 2) / 1000) * P.s3GetThousand.usd + rru(ticksRru),
      `${open}, a chart opened every minute: ${fmt(queries)} Athena queries (10 MB minimum each)${cfg.ticksTable ? ` + a ticks Query each (${millions(ticksRru)} RRU)` : ''}; live rows come with the market page's Scan (a symbol page alone: its row by key every ${DASHBOARD_POLL_S} s, ${millions(aloneRru)} RRU, $${rru(aloneRru).toFixed(2)})`,
    );
    const alertReads = dashboardAlertReads(w.symbols);
    add('Dashboard alerts page', rru(alertReads.rruPerMonth), `${open}: the alerts index every ${D.alertsPollS} s (~${fmt(alertReads.entriesPerPoll)} index entries, ${fmt(alertReads.rruPerPoll, 1)} RRU a Query)`);
    // the lease table (one small item a shard: a single 0.5 RRU page) and the DLQ's depth
    const leaseRru = (openS / D.leasePollS) * 0.5;
    const dlqRequests = openS / D.dlqPollS;
    add('Dashboard pipeline page', rru(leaseRru) + (dlqRequests / 1e6) * P.sqsRequestMillion.usd, `${open}: leases every ${D.leasePollS} s (${millions(leaseRru)} RRU) + DLQ depth every ${D.dlqPollS} s`);
    add('Dashboard running, no page open', 0, 'reads nothing: each read runs only while a page that shows it is open');
  }

  const total = round2(items.reduce((s, i) => s + i.usd_per_month, 0));
  return { total_usd_per_month: total, items };
}
