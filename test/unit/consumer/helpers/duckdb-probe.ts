/**
 * Child process for duckdb-lazy.test.ts: loads what the record processor
 * loads (consumer/main.ts's imports), builds one shard's ports in the mode
 * given by TICKSTREAM_MODE, and prints which DuckDB modules are in
 * require.cache and the process's RSS.
 */
import '../../../../consumer/kcl/record-processor';
import '../../../../consumer/metrics';
import '../../../../consumer/shard-processor';
import '../../../../consumer/status';
import '../../../../consumer/heartbeat';
import { loadConsumerConfig } from '../../../../consumer/config';
import { buildPorts } from '../../../../consumer/wiring';
import { createLogger } from '../../../../shared/logger';

const cfg = loadConsumerConfig(process.env);
const ports = buildPorts(cfg, 'shardId-000000000000', createLogger({ service: 'probe', level: 'error' }), process.stderr);
const duckdb = Object.keys(require.cache).filter((k) => k.includes(`${'@duckdb'}`));
process.stdout.write(`${JSON.stringify({ mode: cfg.mode, duckdb, rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20) })}\n`);
void ports.close().then(() => process.exit(0));
