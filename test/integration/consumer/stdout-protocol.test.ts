import fs from 'node:fs';
import path from 'node:path';
import { startDynalite, type Emulator } from '../../../local/emulators';
import { MultilangDriver, type DriverRecord } from '../../../local/multilang-driver';
import { processorCommand } from '../../../local/pipeline';
import { createTables, LOCAL_REGION } from '../../../local/stack';
import { dynamoClient } from '../../../shared/aws';
import { ENV } from '../../../shared/env-names';
import { encodeTick } from '../../../shared/tick';
import { syntheticTicks, testSymbols } from '../../helpers/ticks';
import { tmpDir } from '../../helpers/wait';

/**
 * The consumer's stdout is the MultiLangDaemon protocol. This drives the real
 * record-processor process through the protocol (against a real DynamoDB
 * emulator) while a preloaded module writes to stdout the way a careless
 * library would, and fails on any stdout line that is not a protocol message.
 */
describe('record processor stdout', () => {
  const dir = tmpDir('stdout');
  let ddb: Emulator;
  const tables = { ticks: 'ticks', latest: 'latest', state: 'state', alerts: 'alerts' };

  beforeAll(async () => {
    ddb = await startDynalite({ logDir: dir });
    const client = dynamoClient({ region: LOCAL_REGION, endpoint: ddb.endpoint });
    await createTables(client, tables);
    client.destroy();
  });
  afterAll(async () => {
    await ddb?.stop();
  });

  function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      [ENV.mode]: 'local',
      [ENV.region]: LOCAL_REGION,
      [ENV.dynamodbEndpoint]: ddb.endpoint,
      [ENV.ticksTable]: tables.ticks,
      [ENV.latestTable]: tables.latest,
      [ENV.stateTable]: tables.state,
      [ENV.alertsTable]: tables.alerts,
      [ENV.dataDir]: path.join(dir, 'data'),
      [ENV.checkpointEveryRecords]: '100',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...extra,
    };
  }

  it('writes only protocol messages to stdout, even when other code writes to it', async () => {
    const noisy = path.join(dir, 'noisy.js');
    // after the processor has started, write to stdout the three usual ways
    fs.writeFileSync(
      noisy,
      `setTimeout(() => { console.log('STRAY console.log'); console.info('STRAY console.info'); process.stdout.write('STRAY write\\n'); }, 200);\n`,
    );
    const [cmd, ...args] = processorCommand().split(' ');
    const driver = new MultilangDriver(cmd!, args, env({ NODE_OPTIONS: `--require ${noisy}` }));
    await driver.initialize('shardId-000000000000');
    const ticks = await syntheticTicks(testSymbols(5), 60);
    const records: DriverRecord[] = ticks.map((t, i) => ({ data: encodeTick(t).toString('base64'), partitionKey: t.symbol, sequenceNumber: String(1000 + i) }));
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < records.length; i += 50) await driver.processRecords(records.slice(i, i + 50));
    await driver.shutdownRequested();
    const code = await driver.end();

    expect({ strayStdoutLines: driver.strayLines }).toEqual({ strayStdoutLines: [] });
    expect(driver.checkpoints.length).toBeGreaterThan(0);
    expect(driver.checkpoints.at(-1)).toBe(records.at(-1)!.sequenceNumber);
    // the stray writes were not lost, they went to stderr
    expect(driver.stderr.filter((l) => l.includes('STRAY'))).toHaveLength(3);
    expect(code).toBe(0);
  });

  it('the driver does flag a non-protocol stdout line (the check above can fail)', async () => {
    const raw = path.join(dir, 'raw.js');
    // fd 1 written directly, bypassing process.stdout: what the guard cannot catch
    fs.writeFileSync(raw, `require('fs').writeSync(1, 'RAW LINE\\n');\n`);
    const [cmd, ...args] = processorCommand().split(' ');
    const driver = new MultilangDriver(cmd!, args, env({ NODE_OPTIONS: `--require ${raw}` }));
    await driver.initialize('shardId-000000000001');
    await driver.shutdownRequested();
    await driver.end();
    expect(driver.strayLines).toEqual(['RAW LINE']);
  });
});
