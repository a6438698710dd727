/**
 * Where shipped log files go: S3 (s3-store.ts) or a local folder (local-store.ts, the embedded default).
 * An upload counts only once `head` confirms the stored size and sha256: S3-compatible servers differ in
 * what they verify (s3rver checks no checksum at all), so we verify ourselves.
 */
export interface StoredObject {
  key: string;
  size: number;
  /** The sha256 (hex) recorded in the object's metadata when it was put. */
  sha256: string | undefined;
}

export interface PutOptions {
  /** Hex sha256 of the body, stored as metadata `sha256`. */
  sha256: string;
  size: number;
  /** Called with bytes sent so far (multipart uploads report per part). */
  onProgress?: (sentBytes: number) => void;
  signal?: AbortSignal;
}

export interface ObjectStore {
  /** For logs and metrics: `s3://bucket/prefix` or `file:///dir`. */
  readonly describe: string;
  /** Uploads a local file under `key` (same key, same bytes: idempotent). Multipart when large. */
  put(key: string, file: string, opts: PutOptions): Promise<void>;
  /** The object's size and recorded sha256, or undefined when there is none. */
  head(key: string): Promise<StoredObject | undefined>;
  /** Keys under a prefix, every page followed. */
  list(prefix: string): AsyncIterable<StoredObject>;
  delete(key: string): Promise<void>;
}
