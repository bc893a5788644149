// `npm start` and `npm run soak` build first, before the run's own clock
// starts; this build records how long it took (dist/.build-time.json) so
// the run's summary can say it beside the stack start and the first tick.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const startedAt = Date.now();
try {
  // the server and processes, then the dashboard's browser scripts (their own project: DOM, ES modules)
  for (const project of ['tsconfig.build.json', 'dashboard/web/tsconfig.json']) {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { stdio: 'inherit' });
  }
} catch {
  process.exit(1); // tsc has printed why
}
writeFileSync('dist/.build-time.json', JSON.stringify({ startedAt, ms: Date.now() - startedAt }) + '\n');
