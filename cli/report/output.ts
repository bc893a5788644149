/**
 * Writing a report file: the only I/O of cli/report/. The path is checked
 * before the work starts (a backtest of a large file should not run for a
 * minute and then fail on a typo), and the file is written whole under a
 * temporary name and renamed, so a failure never leaves half a report.
 */
import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeError } from '../../shared/describe-error';
import { formatBytes } from './page';

/** The report cannot be written where asked; the message names the path and why. */
export class ReportPathError extends Error {
  override readonly name = 'ReportPathError';
}

/** `--html <file>`: the value must name an .html (or .htm) file. */
export function htmlPathProblem(file: string): string | null {
  if (file === '') return '--html needs a file name';
  if (!/\.html?$/i.test(file)) return `--html must name an .html file, got ${JSON.stringify(file)}`;
  return null;
}

/** Fails (ReportPathError) unless `file` can be created or replaced. */
export async function checkReportPath(file: string): Promise<void> {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  const dirStat = await stat(dir).catch(() => null);
  if (dirStat === null) throw new ReportPathError(`cannot write ${file}: the directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new ReportPathError(`cannot write ${file}: ${dir} is not a directory`);
  const existing = await stat(abs).catch(() => null);
  if (existing?.isDirectory() === true) throw new ReportPathError(`cannot write ${file}: it is a directory`);
  // Creating the temporary file and renaming it need the directory writable.
  await access(dir, constants.W_OK | constants.X_OK).catch(() => {
    throw new ReportPathError(`cannot write ${file}: the directory ${dir} is not writable`);
  });
}

/** Writes the report and returns the line to print: its absolute path and size. */
export async function writeReport(file: string, html: string): Promise<string> {
  const abs = path.resolve(file);
  const tmp = `${abs}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, abs);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ReportPathError(`cannot write ${file}: ${describeError(err)}`, { cause: err });
  }
  return `report: ${abs} (${formatBytes(Buffer.byteLength(html, 'utf8'))})`;
}
