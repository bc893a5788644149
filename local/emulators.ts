import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports';
import { startProcess, type ManagedProcess } from '../shared/runtime/process';

export interface Emulator {
  readonly name: string;
  readonly endpoint: string;
  readonly port: number;
  readonly proc: ManagedProcess;
  stop(): Promise<void>;
}

function pkgFile(pkg: string, file: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);
}

/**
 * kinesis-local (the Scala.js build of kinesis-mock) on its plain-HTTP port.
 * It is the Kinesis emulator the KCL daemon can talk to: the daemon's Java SDK
 * always speaks HTTP/2 to Kinesis, and kinesis-local accepts HTTP/2 without
 * TLS (h2c), while kinesalite only speaks HTTP/1.1 (the daemon fails with
 * "First received frame was not SETTINGS"). Its TLS port is bound too, to a
 * throwaway free port, because the server insists on a certificate file.
 */
export async function startKinesisLocal(opts: { logDir: string; port?: number }): Promise<Emulator> {
  const port = opts.port ?? (await freePort());
  const tlsPort = await freePort();
  const proc = startProcess('kinesis-local', process.execPath, [pkgFile('kinesis-local', 'main.js')], {
    logFile: path.join(opts.logDir, 'kinesis-local.log'),
    env: {
      ...process.env,
      KINESIS_MOCK_PLAIN_PORT: String(port),
      KINESIS_MOCK_TLS_PORT: String(tlsPort),
      KINESIS_MOCK_CERT_PATH: pkgFile('kinesis-local', 'server.json'),
      CREATE_STREAM_DURATION: '0ms',
      DELETE_STREAM_DURATION: '0ms',
      UPDATE_SHARD_COUNT_DURATION: '0ms',
      SPLIT_SHARD_DURATION: '0ms',
      MERGE_SHARDS_DURATION: '0ms',
      SHARD_LIMIT: '1000',
      SHOULD_PERSIST_DATA: 'false',
      LOG_LEVEL: 'WARN',
    },
  });
  await Promise.race([
    waitForPort(port, 30000, 'kinesis-local'),
    proc.exited.then((code) => {
      throw new Error(`kinesis-local exited with code ${code} before it was ready; see ${opts.logDir}/kinesis-local.log`);
    }),
  ]);
  return { name: 'kinesis-local', endpoint: `http://127.0.0.1:${port}`, port, proc, stop: async () => void (await proc.stop(3000)) };
}

/**
 * dynalite (DynamoDB on LevelDB, in memory) in its own process, so its CPU
 * does not compete with the orchestrator's event loop and a test can stop it
 * to simulate an outage, then start it again on the same port with --path.
 */
export async function startDynalite(opts: { logDir: string; port?: number; dbPath?: string }): Promise<Emulator> {
  const port = opts.port ?? (await freePort());
  const args = [pkgFile('dynalite', 'cli.js'), '--port', String(port), '--host', '127.0.0.1', '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0'];
  if (opts.dbPath !== undefined) {
    fs.mkdirSync(opts.dbPath, { recursive: true });
    args.push('--path', opts.dbPath);
  }
  const proc = startProcess('dynalite', process.execPath, args, { logFile: path.join(opts.logDir, 'dynalite.log') });
  await Promise.race([
    waitForPort(port, 30000, 'dynalite'),
    proc.exited.then((code) => {
      throw new Error(`dynalite exited with code ${code} before it was ready; see ${opts.logDir}/dynalite.log`);
    }),
  ]);
  return { name: 'dynalite', endpoint: `http://127.0.0.1:${port}`, port, proc, stop: async () => void (await proc.stop(3000)) };
}
