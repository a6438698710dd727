import { spawn, type ChildProcess } from 'node:child_process';
import { S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { waitFor } from './poll.js';

export interface S3rverInstance {
  /** `http://127.0.0.1:<port>`; use with `forcePathStyle: true`. */
  endpoint: string;
  bucket: string;
  region: string;
  /** s3rver checks signatures against its fixed key pair. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where s3rver keeps buckets and objects. */
  directory: string;
  /** SIGSTOP: the port still accepts connections but nothing answers (a hung server). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kills the server but keeps its port and directory: connections are refused until restart(). */
  crash(): Promise<void>;
  /** Starts it again on the same port and directory (the objects survive). */
  restart(): Promise<void>;
  /** Kills it and removes its directory; safe to call twice. */
  stop(): Promise<void>;
  output(): string;
}

// Runs in the child. Exits when its stdin closes, so a crashed test run leaves no server behind.
const SCRIPT = `
const [s3rverPath, directory, bucket, port] = process.argv.slice(1);
const S3rver = require(s3rverPath);
new S3rver({ address: '127.0.0.1', port: Number(port), silent: true, directory,
  configureBuckets: [{ name: bucket }] })
  .run()
  .then((addr) => console.log(JSON.stringify({ port: addr.port })))
  .catch((e) => { console.error(e); process.exit(1); });
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
`;

const s3rverPath = createRequire(import.meta.url).resolve('s3rver');

async function answers(endpoint: string): Promise<true | undefined> {
  try {
    // Any HTTP answer (403 for an unsigned request) means the server is up.
    await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return undefined;
  }
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT'); // a paused process would hold a SIGTERM pending forever
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * s3rver (npm) as a loopback S3 endpoint, in a child process: its ListObjectsV2 continuation tokens use
 * DES, which Node ≥ 17's OpenSSL 3 refuses without `--openssl-legacy-provider`, and that flag cannot be
 * turned on inside an already running process.
 */
export async function startS3rver(
  opts: { bucket?: string; timeoutMs?: number } = {},
): Promise<S3rverInstance> {
  const bucket = opts.bucket ?? 'overseer-logs';
  const directory = mkdtempSync(path.join(tmpdir(), 'overseer-s3rver-'));
  let out = '';
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const c = spawn(
      process.execPath,
      ['--openssl-legacy-provider', '-e', SCRIPT, s3rverPath, directory, bucket, String(port)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    child = c;
    let announced: number | undefined;
    c.stdout?.on('data', (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-20_000);
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) announced = Number(m[1]);
    });
    c.stderr?.on('data', (chunk: Buffer) => (out = (out + chunk.toString()).slice(-20_000)));
    const timeoutMs = opts.timeoutMs ?? 20_000;
    port = await waitFor(
      `s3rver to announce its port: ${out}`,
      () => {
        if (c.exitCode !== null) throw new Error(`s3rver exited with ${c.exitCode}: ${out}`);
        return announced;
      },
      { timeoutMs },
    );
    await waitFor(`s3rver on 127.0.0.1:${port}`, () => answers(`http://127.0.0.1:${port}`), { timeoutMs });
  };

  try {
    await launch();
  } catch (e) {
    if (child) await kill(child);
    rmSync(directory, { recursive: true, force: true });
    throw e;
  }

  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    directory,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    crash: async () => {
      if (child) await kill(child);
    },
    restart: async () => {
      if (child) await kill(child);
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child) await kill(child);
      rmSync(directory, { recursive: true, force: true });
    },
    output: () => out,
  };
}

/**
 * A plain SDK client on the instance, for tests that check the bucket without Overseer's code. Checksums
 * only when required: s3rver stores a streamed body with the SDK's default checksums corrupted.
 */
export function rawS3Client(s3: Pick<S3rverInstance, 'region' | 'endpoint' | 'credentials'>): S3Client {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: s3.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}
