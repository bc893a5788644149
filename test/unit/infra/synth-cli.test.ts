/**
 * `cdk synth` as CI runs it: the real CLI, no AWS credentials, no AWS config
 * files, no context lookups. cdk-nag runs inside synth, so a new unacknowledged
 * finding fails here too.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '../../..');

test('cdk synth succeeds offline with no AWS credentials', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tickstream-synth-'));
  const home = mkdtempSync(path.join(tmpdir(), 'tickstream-home-'));
  try {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_') && !k.startsWith('CDK_')) env[k] = v;
    Object.assign(env, { HOME: home, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' });
    const r = spawnSync(path.join(root, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--no-notices', '-o', out], { cwd: root, env, encoding: 'utf8', timeout: 180_000 });
    expect({ status: r.status, stderr: r.status === 0 ? '' : r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['Tickstream.template.json', 'manifest.json']));
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { missing?: unknown };
    expect(manifest.missing).toBeUndefined(); // a context lookup would be listed here as missing context
  } finally {
    rmSync(out, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
}, 200_000);
