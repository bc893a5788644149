/**
 * The AWS SDK commands code sends, read from its source: `new XCommand(`
 * with X imported from '@aws-sdk/client-<service>', as IAM actions
 * (`service:X`). For the tests that hold an IAM policy against the code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../..');

function tsFiles(p: string): string[] {
  if (!statSync(path.join(root, p)).isDirectory()) return [p];
  return readdirSync(path.join(root, p), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(p, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path.join(p, e.name)] : [],
  );
}

/** IAM actions for the SDK commands the files at `paths` (folders or files, from the repository root) construct. */
export function sdkActions(...paths: string[]): Set<string> {
  const out = new Set<string>();
  for (const f of paths.flatMap(tsFiles)) {
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
