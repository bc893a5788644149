/**
 * AWS's CloudFormation linter (cfn-lint, pinned in
 * scripts/requirements-cfn-lint.txt) on the synthesized template: zero
 * findings of any level, errors, warnings and informational alike. The
 * linter lives in .venv/, which scripts/setup-python.sh creates or updates
 * (a quick no-op when it is current), as local/moto.ts does for moto.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { synth } from './template';

const root = path.join(__dirname, '../../..');
let dir: string;
let cfnLint: string;

beforeAll(() => {
  // The first run on a fresh clone installs the venv (a minute or two).
  execFileSync('bash', [path.join(root, 'scripts', 'setup-python.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  cfnLint = path.join(root, '.venv', 'bin', 'cfn-lint');
  dir = mkdtempSync(path.join(tmpdir(), 'tickstream-cfn-lint-'));
}, 600_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('cfn-lint is the pinned version', () => {
  const pinned = /^cfn-lint==(\S+)$/m.exec(readFileSync(path.join(root, 'scripts', 'requirements-cfn-lint.txt'), 'utf8'))?.[1];
  expect(execFileSync(cfnLint, ['--version'], { encoding: 'utf8' }).trim()).toBe(`cfn-lint ${pinned ?? '?'}`);
});

// Both sides of the config branches (stream mode, alert e-mail, source,
// producer count), linted in one cfn-lint run: Python's start-up is most of its time.
test('the synthesized templates have zero findings (errors and warnings, the cfn-lint default)', () => {
  const variants: Record<string, Record<string, unknown>> = {
    defaults: {},
    'on-demand-email-synthetic': { streamMode: 'on-demand', alertEmail: 'ops@example.com', source: 'synthetic', producerTasks: '0' },
  };
  const files = Object.entries(variants).map(([name, context]) => {
    const file = path.join(dir, `${name}.template.json`);
    writeFileSync(file, JSON.stringify(synth(context).json));
    return file;
  });
  const r = spawnSync(cfnLint, ['--', ...files], { encoding: 'utf8', timeout: 300_000 });
  expect({ status: r.status, findings: r.stdout.trim(), stderr: r.stderr.trim() }).toEqual({ status: 0, findings: '', stderr: '' });
}, 300_000);
