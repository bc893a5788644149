/**
 * The task roles against the code that runs under them: every AWS SDK command
 * producer/ or consumer/ sends must be granted to that task's role (else the
 * deployed task fails with AccessDenied), and the roles grant no data-plane
 * action the code does not use (least privilege). Commands are found in the
 * source: `new XCommand(` with X imported from '@aws-sdk/client-<service>'.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { KCL_KINESIS_ACTIONS, kclTableActions } from '../../../infra/kcl';
import { roleStatements, synth, type Synth } from './template';

const root = path.join(__dirname, '../../..');

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** IAM actions for the SDK commands the files under `dir` construct. */
function sdkActions(dir: string): Set<string> {
  const out = new Set<string>();
  for (const f of tsFiles(dir)) {
    const src = readFileSync(path.join(root, f), 'utf8');
    const clientOf = new Map<string, string>();
    for (const m of src.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g)) {
      for (const name of (m[1] ?? '').split(',').map((x) => x.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0] ?? '')) {
        if (name.endsWith('Command')) clientOf.set(name, m[2] ?? '');
      }
    }
    for (const m of src.matchAll(/new\s+(\w+Command)\s*\(/g)) {
      const cmd = m[1] ?? '';
      const service = clientOf.get(cmd);
      if (service !== undefined) out.add(`${service}:${cmd.replace(/Command$/, '')}`);
    }
  }
  return out;
}

const DATA_SERVICES = /^(dynamodb|kinesis|firehose|sns|sqs|s3):/;
let s: Synth;
beforeAll(() => {
  s = synth();
}, 120_000);

describe.each([
  ['producer', 'ProducerTaskTaskRole', [] as string[]],
  ['consumer', 'ConsumerTaskTaskRole', [...KCL_KINESIS_ACTIONS, ...kclTableActions()]],
])('%s task role', (dir, rolePrefix, kclActions) => {
  const granted = (): Set<string> => new Set(roleStatements(s, rolePrefix).flatMap((st) => st.actions));

  test(`grants every SDK call ${dir}/ makes`, () => {
    const used = [...sdkActions(dir)];
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((a) => !granted().has(a))).toEqual([]);
  });

  test(`grants no data-plane action that ${dir}/ (or the KCL it runs) does not use`, () => {
    const allowed = new Set([...sdkActions(dir), ...kclActions]);
    expect([...granted()].filter((a) => DATA_SERVICES.test(a) && !allowed.has(a))).toEqual([]);
  });
});
