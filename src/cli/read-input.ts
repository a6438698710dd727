import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** A stream read whole, but never past `maxBytes + 1` bytes (enough to tell that it is too long). */
async function readBounded(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size > maxBytes) break;
  }
  stream.destroy();
  return Buffer.concat(chunks);
}

/** Standard input, bounded as `readInput` bounds it. */
export const readStdin = (maxBytes: number): Promise<Buffer> => readBounded(process.stdin, maxBytes);

/**
 * A file argument, or standard input for `-`, of at most `maxBytes`; throws a plain Error saying why (the
 * command wraps it in its own coded error). A regular file is checked by its size before it is read; a
 * pipe or device (`<(…)`, /dev/stdin) is read in chunks up to the bound.
 */
export async function readInput(
  file: string,
  maxBytes: number,
  stdin: ((maxBytes: number) => Promise<Buffer>) | undefined,
): Promise<Buffer> {
  let body: Buffer;
  if (file === '-') body = await (stdin ?? readStdin)(maxBytes);
  else {
    const s = await stat(file);
    if (s.isFile() && s.size > maxBytes) throw new Error(`more than ${maxBytes} bytes`);
    body = s.isFile() ? await readFile(file) : await readBounded(createReadStream(file), maxBytes);
  }
  if (body.length > maxBytes) throw new Error(`more than ${maxBytes} bytes`);
  return body;
}
