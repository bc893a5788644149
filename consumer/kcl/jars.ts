import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** repo root, from both consumer/kcl (ts-jest) and dist/consumer/kcl */
export function projectRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the project root');
    dir = up;
  }
  return dir;
}

export const POM_PATH = (): string => path.join(projectRoot(), 'consumer', 'kcl', 'pom.xml');

export class MissingToolError extends Error {
  constructor(tool: string, hint: string, options?: { cause?: unknown }) {
    super(`${tool} is required but was not found on PATH. ${hint}`, options);
    this.name = 'MissingToolError';
  }
}

export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', 'java') : 'java';
}

export function assertJava(): void {
  const r = spawnSync(javaCommand(), ['-version'], { stdio: 'pipe' });
  if (r.error || r.status !== 0) {
    throw new MissingToolError('Java (JRE 17 or newer)', 'Install it, e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME.', { cause: r.error });
  }
}

function pomVersion(pom: string): string {
  const m = /<kcl\.version>([^<]+)<\/kcl\.version>/.exec(fs.readFileSync(pom, 'utf8'));
  if (!m?.[1]) throw new Error(`no <kcl.version> in ${pom}`);
  return m[1];
}

/**
 * The MultiLangDaemon's jars, fetched once with Maven from the pinned pom
 * into a git-ignored cache (.kcl/jars/<version>). A second call only checks
 * a marker file. Fetching goes to a temp dir first, so an interrupted
 * download never leaves a half-filled classpath behind.
 */
export function ensureKclJars(opts: { log?: (msg: string) => void } = {}): string {
  const pom = POM_PATH();
  const version = pomVersion(pom);
  const dir = process.env.TICKSTREAM_KCL_JARS ?? path.join(projectRoot(), '.kcl', 'jars', version);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const mvn = spawnSync('mvn', ['-v'], { stdio: 'pipe' });
  if (mvn.error || mvn.status !== 0) {
    throw new MissingToolError('Maven (mvn)', 'It fetches the KCL jars once; install it, e.g. `apt-get install maven`.', { cause: mvn.error });
  }
  opts.log?.(`fetching KCL ${version} jars with Maven into ${dir} (one time)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`mvn dependency:copy-dependencies failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-2000)}`);
  }
  fs.writeFileSync(path.join(tmp, '.complete'), `${version}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.renameSync(tmp, dir);
  return dir;
}
