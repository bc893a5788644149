import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

/** Our own KCL worker main class (consumer/kcl/launcher): the MultiLangDaemon
 *  with the leader lock's lease duration and heartbeat set. */
export const KCL_LAUNCHER_CLASS = 'software.amazon.kinesis.multilang.config.TickstreamKclLauncher';

/** The launcher's source; compiled against the fetched jars into <jarsDir>/launcher. */
export const LAUNCHER_SOURCE = (): string =>
  path.join(projectRoot(), 'consumer', 'kcl', 'launcher', ...KCL_LAUNCHER_CLASS.split('.').slice(0, -1), 'TickstreamKclLauncher.java');

/** The launcher's compiled class inside a jar directory: present in every complete one. */
const launcherClassFile = (jarsDir: string): string => path.join(jarsDir, 'launcher', ...KCL_LAUNCHER_CLASS.split('.')) + '.class';

/** The daemon's classpath: every fetched jar, then the compiled launcher. */
export function kclClasspath(jarsDir: string): string {
  return [path.join(jarsDir, '*'), path.join(jarsDir, 'launcher')].join(path.delimiter);
}

export class MissingToolError extends Error {
  constructor(tool: string, hint: string, options?: { cause?: unknown; problem?: string }) {
    super(`${tool} is required but ${options?.problem ?? 'was not found on PATH'}. ${hint}`, options);
    this.name = 'MissingToolError';
  }
}

function jdkTool(name: 'java' | 'javac'): string {
  const home = process.env.JAVA_HOME;
  return home ? path.join(home, 'bin', name) : name;
}

export function javaCommand(): string {
  return jdkTool('java');
}

export function javacCommand(): string {
  return jdkTool('javac');
}

export function assertJava(): void {
  const r = spawnSync(javaCommand(), ['-version'], { stdio: 'pipe' });
  if (r.error || r.status !== 0) {
    throw new MissingToolError('Java (JRE 17 or newer)', 'Install it, e.g. `apt-get install openjdk-17-jre-headless`, or set JAVA_HOME.', { cause: r.error });
  }
}

const JDK_HINT = 'It compiles the KCL launcher once, next to the fetched jars; install a JDK, e.g. `apt-get install openjdk-17-jdk-headless`, or set JAVA_HOME to one.';

/** javac 17 or newer (`--release 17`): needed only where the jars are fetched, not where they run. */
export function assertJavac(): void {
  const r = spawnSync(javacCommand(), ['-version'], { stdio: 'pipe', encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new MissingToolError('A JDK 17 or newer (javac)', JDK_HINT, { cause: r.error });
  const major = Number(/javac\s+(\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? NaN);
  if (!(major >= 17)) {
    throw new MissingToolError('A JDK 17 or newer (javac)', JDK_HINT, { problem: `${javacCommand()} is ${`${r.stdout}${r.stderr}`.trim() || 'of unknown version'}` });
  }
}

export function pomVersion(pom: string): string {
  const m = /<kcl\.version>([^<]+)<\/kcl\.version>/.exec(fs.readFileSync(pom, 'utf8'));
  if (!m?.[1]) throw new Error(`no <kcl.version> in ${pom}`);
  return m[1];
}

/**
 * The completion marker's text: the pom's kcl.version, then the launcher
 * source's SHA-256 (Dockerfile.consumer writes the same two lines).
 */
export function jarsMarker(version: string, launcherSha256: string): string {
  return `${version}\nlauncher sha256:${launcherSha256}\n`;
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * Whether `dir` holds a finished jar set for this pom version and launcher:
 * the marker names the version (an old cache, or one touched by an older
 * Dockerfile, does not), the launcher is compiled, and where the launcher
 * source is present (not in the runtime image) it is the source it was
 * compiled from.
 */
export function kclJarsComplete(dir: string, version: string): boolean {
  const marker = path.join(dir, '.complete');
  if (!fs.existsSync(marker) || !fs.existsSync(launcherClassFile(dir))) return false;
  const lines = fs.readFileSync(marker, 'utf8').split('\n');
  if (lines[0] !== version) return false;
  const src = LAUNCHER_SOURCE();
  return !fs.existsSync(src) || lines[1] === `launcher sha256:${sha256(src)}`;
}

/**
 * The MultiLangDaemon's jars, fetched once with Maven from the pinned pom
 * into a git-ignored cache (.kcl/jars/<version>), plus our launcher compiled
 * against them into <dir>/launcher. A second call only checks the marker
 * file. Fetching and compiling go to a temp dir first, so an interrupted
 * download or a failed compile never leaves a half-filled classpath behind.
 */
export function ensureKclJars(opts: { log?: (msg: string) => void } = {}): string {
  const pom = POM_PATH();
  const version = pomVersion(pom);
  const dir = process.env.TICKSTREAM_KCL_JARS ?? path.join(projectRoot(), '.kcl', 'jars', version);
  if (kclJarsComplete(dir, version)) return dir;
  const mvn = spawnSync('mvn', ['-v'], { stdio: 'pipe' });
  if (mvn.error || mvn.status !== 0) {
    throw new MissingToolError('Maven (mvn)', 'It fetches the KCL jars once; install it, e.g. `apt-get install maven`.', { cause: mvn.error });
  }
  assertJavac();
  const src = LAUNCHER_SOURCE();
  if (!fs.existsSync(src)) throw new Error(`${src} not found: the KCL launcher is compiled from it`);
  opts.log?.(`fetching KCL ${version} jars with Maven into ${dir} and compiling the launcher (one time)`);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    const r = spawnSync('mvn', ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${tmp}`], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`mvn dependency:copy-dependencies failed (exit ${r.status}):\n${(r.stdout + r.stderr).slice(-2000)}`);
    }
    // -proc:none: run no annotation processor a fetched jar might carry
    const c = spawnSync(
      javacCommand(),
      ['--release', '17', '-proc:none', '-nowarn', '-encoding', 'UTF-8', '-d', path.join(tmp, 'launcher'), '-cp', path.join(tmp, '*'), src],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' },
    );
    if (c.status !== 0) {
      throw new Error(`javac failed to compile the KCL launcher ${src} against the ${version} jars (exit ${c.status}):\n${(c.stdout + c.stderr).slice(-2000)}`);
    }
    fs.writeFileSync(path.join(tmp, '.complete'), jarsMarker(version, sha256(src)));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return dir;
}
