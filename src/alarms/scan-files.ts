import { readdir, readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { CodePattern } from './code-patterns.js';
import { checkCodes, type ScanReport, type SourceFile } from './code-scanner.js';

/** Files larger than this are generated or vendored, not hand-written code that raises errors. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'target', 'coverage', '.overseer']);

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) yield* walk(full);
    } else if (e.isFile()) yield full;
  }
}

// eslint-disable-next-line @typescript-eslint/require-await -- an async generator of one item
async function* single(file: string): AsyncGenerator<string> {
  yield file;
}

/** Reads every source file under `roots` (files or folders) that the pattern covers and checks the codes. */
export async function scanPaths(
  roots: readonly string[],
  pattern: CodePattern,
  cwd = process.cwd(),
): Promise<ScanReport> {
  const files: SourceFile[] = [];
  for (const root of roots) {
    const abs = path.resolve(cwd, root);
    let isDir: boolean;
    try {
      isDir = (await stat(abs)).isDirectory();
    } catch (cause) {
      throw new OverseerError(ErrorCodes.CODES_PATH_UNREADABLE, `cannot read ${root}`, {
        details: [String((cause as Error).message)],
        hint: 'give folders or files that exist, e.g. overseer codes scan src',
        cause,
      });
    }
    const paths = isDir ? walk(abs) : single(abs);
    for await (const p of paths) {
      const rel = path.relative(cwd, p).split(path.sep).join('/');
      if (!pattern.extensions.includes(path.extname(p))) continue;
      if (pattern.exclude.some((re) => re.test(rel))) continue;
      if ((await stat(p)).size > MAX_FILE_BYTES) continue;
      files.push({ file: rel, text: await readFile(p, 'utf8') });
    }
  }
  return checkCodes(files, pattern);
}
