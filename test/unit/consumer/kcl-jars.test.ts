/**
 * The KCL jar set and our launcher, without Maven or a JVM: what the pom pins,
 * that the launcher source and the properties agree on the leader-lock keys,
 * when a jar directory counts as complete (old caches must not), and the
 * error when no JDK is there to compile the launcher.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  assertJavac,
  ensureKclJars,
  jarsMarker,
  KCL_LAUNCHER_CLASS,
  kclClasspath,
  kclJarsComplete,
  LAUNCHER_SOURCE,
  MissingToolError,
  POM_PATH,
  pomVersion,
} from '../../../consumer/kcl/jars';
import { LEADER_LOCK_KEYS } from '../../../consumer/kcl/properties';

const pom = fs.readFileSync(POM_PATH(), 'utf8');
const source = fs.readFileSync(LAUNCHER_SOURCE(), 'utf8');
const sourceSha = createHash('sha256').update(fs.readFileSync(LAUNCHER_SOURCE())).digest('hex');
const prop = (name: string): string | undefined => new RegExp(`<${name.replace(/\./g, '\\.')}>([^<]+)</`).exec(pom)?.[1];

describe('consumer/kcl/pom.xml', () => {
  test('multilang 3.1.3 on core 3.5.1, every AWS SDK module from one BOM', () => {
    expect(prop('kcl.multilang.version')).toBe('3.1.3');
    expect(prop('kcl.core.version')).toBe('3.5.1');
    const managed = /<dependencyManagement>([\s\S]*)<\/dependencyManagement>/.exec(pom)?.[1] ?? '';
    expect(managed).toMatch(/<artifactId>amazon-kinesis-client<\/artifactId>\s*<version>\$\{kcl\.core\.version\}<\/version>/);
    expect(managed).toMatch(/<groupId>software\.amazon\.awssdk<\/groupId>\s*<artifactId>bom<\/artifactId>\s*<version>\$\{awssdk\.version\}<\/version>\s*<type>pom<\/type>\s*<scope>import<\/scope>/);
  });

  test('the cache key names every pinned version, so an older .kcl/jars/<key> is never reused', () => {
    const version = pomVersion(POM_PATH());
    expect(version).toBe(`${prop('kcl.multilang.version')}+core-${prop('kcl.core.version')}+lle-${prop('logstash.encoder.version')}`);
    // the jar sets before the core pin and before the JSON log encoder
    expect(['3.1.3', '3.1.3+core-3.5.1']).not.toContain(version);
  });

  test('the JSON log encoder is a dependency, and Jackson stays on the version KCL core brings', () => {
    expect(pom).toMatch(/<artifactId>logstash-logback-encoder<\/artifactId>\s*<version>\$\{logstash\.encoder\.version\}<\/version>/);
    expect(prop('logstash.encoder.version')).toBe('7.4');
    const managed = /<dependencyManagement>([\s\S]*)<\/dependencyManagement>/.exec(pom)?.[1] ?? '';
    expect(managed).toMatch(/<artifactId>jackson-bom<\/artifactId>\s*<version>\$\{jackson\.version\}<\/version>\s*<type>pom<\/type>\s*<scope>import<\/scope>/);
  });
});

describe('the launcher', () => {
  test('is the class the daemons start, in the multilang config package (for the package-private resolvedConfiguration)', () => {
    const pkg = /^package ([\w.]+);/m.exec(source)?.[1];
    const cls = /public final class (\w+)/.exec(source)?.[1];
    expect(`${pkg}.${cls}`).toBe(KCL_LAUNCHER_CLASS);
    expect(pkg).toBe('software.amazon.kinesis.multilang.config');
    expect(LAUNCHER_SOURCE()).toContain(path.join('consumer', 'kcl', 'launcher', ...KCL_LAUNCHER_CLASS.split('.')) + '.java');
    expect(source).toContain('resolvedConfiguration(');
  });

  test('reads the keys the properties file carries and sets both LeaseManagementConfig fields', () => {
    expect(/LEASE_KEY = "(\w+)"/.exec(source)?.[1]).toBe(LEADER_LOCK_KEYS.leaseMs);
    expect(/HEARTBEAT_KEY = "(\w+)"/.exec(source)?.[1]).toBe(LEADER_LOCK_KEYS.heartbeatMs);
    expect(source).toContain('.dynamoDbLockBasedLeaderLeaseDurationInMillis(leaseMs)');
    expect(source).toContain('.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis(heartbeatMs)');
  });

  test('runs with every jar and the compiled launcher on the classpath', () => {
    expect(kclClasspath('/j')).toBe('/j/*:/j/launcher');
  });
});

describe('a jar directory', () => {
  const version = '3.1.3+core-3.5.1';
  let dir: string;
  const classFile = (): string => path.join(dir, 'launcher', ...KCL_LAUNCHER_CLASS.split('.')) + '.class';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickstream-jars-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('is complete with the marker of this version and launcher source, and the compiled launcher', () => {
    fs.mkdirSync(path.dirname(classFile()), { recursive: true });
    fs.writeFileSync(classFile(), '');
    fs.writeFileSync(path.join(dir, '.complete'), jarsMarker(version, sourceSha));
    expect(kclJarsComplete(dir, version)).toBe(true);
  });

  test.each([
    ['an old cache (marker without the version: `touch .complete`, or 3.1.3)', ['', '3.1.3\n'], true],
    ['another version', [jarsMarker('3.1.3', sourceSha)], true],
    ['a launcher compiled from another source', [jarsMarker(version, 'f'.repeat(64))], true],
    ['no compiled launcher', [jarsMarker(version, sourceSha)], false],
  ])('is not complete with %s', (_what, markers, withClass) => {
    if (withClass) {
      fs.mkdirSync(path.dirname(classFile()), { recursive: true });
      fs.writeFileSync(classFile(), '');
    }
    for (const m of markers) {
      fs.writeFileSync(path.join(dir, '.complete'), m);
      expect(kclJarsComplete(dir, version)).toBe(false);
    }
  });
});

describe('without a JDK', () => {
  const saved = { JAVA_HOME: process.env.JAVA_HOME, PATH: process.env.PATH, TICKSTREAM_KCL_JARS: process.env.TICKSTREAM_KCL_JARS };
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tickstream-nojdk-'));
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const fakeTool = (dir: string, name: string, script: string): void => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  };

  test('the jar fetch stops before Maven downloads anything, naming the package to install', () => {
    // a Maven that would fail the test if it were asked to copy anything
    fakeTool(path.join(tmp, 'bin'), 'mvn', `[ "$1" = -v ] && exit 0; touch ${JSON.stringify(path.join(tmp, 'mvn-ran'))}; exit 1`);
    process.env.PATH = `${path.join(tmp, 'bin')}${path.delimiter}${saved.PATH ?? ''}`;
    process.env.JAVA_HOME = path.join(tmp, 'no-jdk');
    process.env.TICKSTREAM_KCL_JARS = path.join(tmp, 'jars');
    expect(() => ensureKclJars()).toThrow(MissingToolError);
    expect(() => ensureKclJars()).toThrow(/JDK 17 or newer \(javac\) is required but was not found on PATH\. .*`apt-get install openjdk-17-jdk-headless`/);
    expect(fs.existsSync(path.join(tmp, 'mvn-ran'))).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'jars'))).toBe(false);
  });

  test('a javac older than 17 is refused with the same hint', () => {
    fakeTool(path.join(tmp, 'jdk', 'bin'), 'javac', 'echo "javac 11.0.20"');
    process.env.JAVA_HOME = path.join(tmp, 'jdk');
    expect(() => assertJavac()).toThrow(/JDK 17 or newer \(javac\) is required but .*javac is javac 11\.0\.20\. .*openjdk-17-jdk-headless/);
  });
});
