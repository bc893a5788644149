import { int, str, url, type Env } from '../../shared/config-util';
import { ENV } from '../../shared/env-names';

/**
 * MultiLangDaemon configuration, generated rather than hand-written so the
 * local stack, the tests and the ECS container all get a consistent file.
 * Keys are KCL 3.x multilang keys (see KinesisClientLibConfigurator).
 */
export interface DaemonPropertiesInput {
  streamName: string;
  applicationName: string;
  /** command line the daemon runs once per leased shard */
  executableName: string;
  region: string;
  workerId?: string;
  initialPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** emulator endpoints, with scheme; absent in AWS */
  kinesisEndpoint?: string;
  dynamoDBEndpoint?: string;
  idleTimeBetweenReadsInMillis?: number;
  maxRecords?: number;
  failoverTimeMillis?: number;
  /** How long the daemon's SIGTERM hook waits for every processor's
   *  shutdownRequested and last checkpoint. KCL's own default does not wait,
   *  so a stop (an ECS deploy, Ctrl-C) would skip the final checkpoint. Keep
   *  it below the ECS stop timeout (120 s in infra/). */
  shutdownGraceMillis?: number;
  /** true on the emulators: shortens KCL's start-up and assignment timers,
   *  which are tuned for fleets, not for a laptop */
  fastStart?: boolean;
}

export type DaemonProperties = Record<string, string>;

export function buildDaemonProperties(i: DaemonPropertiesInput): DaemonProperties {
  const p: DaemonProperties = {
    executableName: i.executableName,
    streamName: i.streamName,
    applicationName: i.applicationName,
    AwsCredentialsProvider: 'DefaultCredentialsProvider',
    processingLanguage: 'nodejs',
    initialPositionInStream: i.initialPosition ?? 'TRIM_HORIZON',
    regionName: i.region,
    // Enhanced fan-out needs SubscribeToShard over HTTP/2 event streams; polling
    // works everywhere and 2-5 consumers per stream stay within 5 reads/s/shard.
    retrievalMode: 'POLLING',
    idleTimeBetweenReadsInMillis: String(i.idleTimeBetweenReadsInMillis ?? 250),
    maxRecords: String(i.maxRecords ?? 10000),
    failoverTimeMillis: String(i.failoverTimeMillis ?? 10000),
    shutdownGraceMillis: String(i.shutdownGraceMillis ?? 60000),
    // Our own metrics go out as EMF in the logs; the daemon's CloudWatch
    // publisher would need PutMetricData and has no endpoint key for emulators.
    metricsLevel: 'NONE',
    // the processor checkpoints itself after its sinks acknowledge
    callProcessRecordsEvenForEmptyRecordList: 'true',
    validateSequenceNumberBeforeCheckpointing: 'true',
    cleanupLeasesUponShardCompletion: 'true',
  };
  if (i.workerId !== undefined) p.workerId = i.workerId;
  if (i.kinesisEndpoint !== undefined) p.kinesisEndpoint = i.kinesisEndpoint;
  if (i.dynamoDBEndpoint !== undefined) p.dynamoDBEndpoint = i.dynamoDBEndpoint;
  if (i.fastStart === true) {
    // ShardSyncTask sleeps shardSyncIntervalMillis after the first sync
    // (60 s by default) before the worker loop starts.
    p.shardSyncIntervalMillis = '1000';
    p.parentShardPollIntervalMillis = '1000';
    p.leaseAssignmentIntervalMillis = '2000';
    p.workerMetricsReporterFreqInMillis = '2000';
    p.inMemoryWorkerMetricsCaptureFrequencyMillis = '1000';
  }
  return p;
}

export function formatProperties(p: DaemonProperties): string {
  return (
    Object.entries(p)
      .map(([k, v]) => {
        if (/[\r\n]/.test(v)) throw new Error(`property ${k} contains a newline`);
        return `${k} = ${v}`;
      })
      .join('\n') + '\n'
  );
}

/** Parses the `key = value` format back; used by tests and diagnostics. */
export function parseProperties(text: string): DaemonProperties {
  const out: DaemonProperties = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const eq = t.indexOf('=');
    if (eq < 0) throw new Error(`not a property line: ${t}`);
    out[t.slice(0, eq).trim()] = t.slice(eq + 1).trim();
  }
  return out;
}

/**
 * The container's daemon properties, from the same environment variables the
 * record processor reads (names shared with infra/). Endpoints appear only
 * when set, i.e. never in AWS.
 */
export function daemonPropertiesFromEnv(env: Env, executableName: string, hostname: string): DaemonProperties {
  const kinesisEndpoint = url(env, ENV.kinesisEndpoint);
  const dynamoDBEndpoint = url(env, ENV.dynamodbEndpoint);
  return buildDaemonProperties({
    streamName: str(env, ENV.streamName),
    applicationName: str(env, ENV.appName),
    executableName,
    region: str(env, ENV.region),
    workerId: str(env, ENV.workerId, hostname),
    idleTimeBetweenReadsInMillis: int(env, ENV.kclIdleMs, 500, 200, 10_000),
    failoverTimeMillis: int(env, ENV.kclFailoverMs, 10_000, 1000),
    ...(kinesisEndpoint !== undefined ? { kinesisEndpoint } : {}),
    ...(dynamoDBEndpoint !== undefined ? { dynamoDBEndpoint } : {}),
  });
}
