import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { lintDockerfile, parseDockerfile, projectFindings } from '../../../infra/dockerfile-lint';
import { TASK_TMP_PATH } from '../../../infra/sections/fargate-task';

const root = path.join(__dirname, '../../..');
const read = (f: string): string => readFileSync(path.join(root, f), 'utf8');
const rules = (content: string): string[] => projectFindings(content).map((f) => f.rule);

describe.each(['Dockerfile.producer', 'Dockerfile.consumer'])('%s', (file) => {
  const content = read(file);
  const { stages } = parseDockerfile(content);
  const runtime = stages[stages.length - 1];

  test('passes the linter (dockerfile-utils validator + tickstream rules) with no findings', () => {
    expect(lintDockerfile(content)).toEqual([]);
  });

  test('is multi-stage with a Node 24 (LTS) slim runtime', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(runtime?.image).toMatch(/^node:24\.\d+\.\d+(-[a-z]+)?-slim$/);
  });

  test('pins every base image to an exact version', () => {
    for (const st of stages) expect(st.image).toMatch(/^[a-z0-9./-]+:\d+\.\d+\.\d+[^:@]*$/);
  });

  test('declares /tmp a volume, the one path the read-only task may write (infra/sections/fargate-task.ts TASK_TMP_PATH)', () => {
    expect(runtime?.instructions.filter((i) => i.keyword === 'VOLUME').map((i) => i.args)).toEqual([JSON.stringify([TASK_TMP_PATH])]);
  });

  test('runs as a non-root numeric user', () => {
    const user = runtime?.instructions.filter((i) => i.keyword === 'USER').pop();
    expect(user?.args).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  test('installs production dependencies only in the runtime stage', () => {
    const npm = runtime?.instructions.filter((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args)) ?? [];
    expect(npm.length).toBe(1);
    expect(npm[0]?.args).toContain('--omit=dev');
  });

  test('never ADDs a remote URL', () => {
    expect(parseDockerfile(content).instructions.filter((i) => i.keyword === 'ADD')).toEqual([]);
  });
});

describe('Dockerfile.consumer specifics', () => {
  const content = read('Dockerfile.consumer');
  const { stages, instructions } = parseDockerfile(content);
  const runtime = stages[stages.length - 1];

  test('fetches the KCL jars with Maven from the pinned pom at build time', () => {
    const mvn = instructions.find((i) => i.keyword === 'RUN' && i.args.includes('mvn'));
    expect(mvn?.args).toContain('-f consumer/kcl/pom.xml dependency:copy-dependencies');
    expect(runtime?.instructions.some((i) => i.keyword === 'COPY' && /--from=jars\b.*\.kcl\/jars/.test(i.args))).toBe(true);
  });

  test('compiles our KCL launcher in the jars stage from the project\'s own source, as consumer/kcl/jars.ts does, before the marker', () => {
    const jars = stages.find((st) => st.name === 'jars');
    expect(jars?.instructions.some((i) => i.keyword === 'COPY' && i.args === 'consumer/kcl/launcher consumer/kcl/launcher')).toBe(true);
    const javac = jars?.instructions.find((i) => i.keyword === 'RUN' && /\bjavac\b/.test(i.args));
    expect(javac?.args).toMatch(/javac --release 17 -proc:none -nowarn -encoding UTF-8 -d \/build\/\.kcl\/jars\/launcher -cp '\/build\/\.kcl\/jars\/\*'/);
    expect(javac?.args).toContain('consumer/kcl/launcher/software/amazon/kinesis/multilang/config/TickstreamKclLauncher.java');
    // the marker: the pom's kcl.version, then the source's hash (jarsMarker), written last
    expect(javac?.args).toMatch(/printf '%s\\nlauncher sha256:%s\\n' "\$version" "\$\{sum%% \*\}" > \/build\/\.kcl\/jars\/\.complete$/);
    expect(instructions.filter((i) => /\.complete/.test(i.args))).toEqual([javac]);
  });

  test('ships a JRE and starts the daemon entrypoint in exec form', () => {
    expect(runtime?.instructions.some((i) => i.keyword === 'COPY' && i.args.includes('/opt/java/openjdk'))).toBe(true);
    expect(runtime?.instructions.find((i) => i.keyword === 'ENTRYPOINT')?.args).toBe('["node", "dist/consumer/daemon.js"]');
  });
});

describe('the rules catch what they claim to', () => {
  test.each([
    ['single stage, root, latest', 'FROM node:latest\nCMD ["node","x.js"]\n', ['multi-stage', 'pinned-base', 'lts-slim-runtime', 'non-root']],
    ['non-LTS runtime', 'FROM node:24.18.0 AS b\nFROM node:23.11.1-slim\nUSER 1000\nCMD ["node","x.js"]\n', ['lts-slim-runtime']],
    ['dev deps in runtime', 'FROM node:24.18.0-slim AS b\nFROM node:24.18.0-slim\nRUN npm ci\nUSER 1000\nCMD ["node","x.js"]\n', ['prod-deps-only']],
    ['node_modules copied over', 'FROM node:24.18.0-slim AS b\nFROM node:24.18.0-slim\nCOPY --from=b /app/node_modules ./node_modules\nUSER 1000\nCMD ["node","x.js"]\n', ['prod-deps-only']],
    ['remote ADD', 'FROM node:24.18.0-slim AS b\nADD https://example.com/x.tgz /x\nFROM node:24.18.0-slim\nUSER 1000\nCMD ["node","x.js"]\n', ['no-remote-add']],
    ['root user, shell form', 'FROM node:24.18.0-slim AS b\nFROM node:24.18.0-slim\nUSER root\nCMD node x.js\n', ['non-root', 'exec-form']],
    ['floating tags', 'FROM maven:3.9-eclipse-temurin-21 AS b\nFROM node:24-slim\nUSER 1000\nCMD ["node","x.js"]\n', ['exact-version', 'exact-version']],
    ['named user', 'FROM node:24.18.0-slim AS b\nFROM node:24.18.0-slim\nUSER node\nCMD ["node","x.js"]\n', ['numeric-user']],
  ])('%s', (_name, dockerfile, expected) => {
    expect(rules(dockerfile).sort()).toEqual([...expected].sort());
  });
});
