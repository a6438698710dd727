import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { LocalObjectStore } from './local-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-store.js';
import type { LogShipperOptions } from './ship-options.js';

/**
 * The `logs:` section mapped onto the store and the shipper, the same way for `serve` and for
 * `overseer logs ship`: they must agree on folders, keys and store, or a file shipped by one would be
 * shipped again under another key by the other.
 */

/** The store and how to let it go (`stop()` frees the S3 client's sockets). */
export interface ConfiguredStore {
  store: ObjectStore;
  stop: () => void;
}

/** `logs.s3` when configured (credentials: the AWS env, profile or role), else `<dataDir>/archive`. */
export function configuredStore(config: Config, logger: Logger): ConfiguredStore {
  const s3 = config.logs.s3;
  if (!s3) return { store: new LocalObjectStore(path.join(config.dataDir, 'archive')), stop: () => {} };
  const store = new S3ObjectStore(
    {
      bucket: s3.bucket,
      prefix: s3.prefix,
      region: s3.region,
      ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
      forcePathStyle: s3.forcePathStyle,
      requestChecksumCalculation: s3.requestChecksumCalculation,
    },
    { logger },
  );
  return { store, stop: () => store.stop() };
}

export function configuredShipperOptions(
  config: Config,
  more: { owner: string; stopDeadlineMs?: number },
): LogShipperOptions {
  const logs = config.logs;
  return {
    dirs: logs.dirs,
    foreignDirs: logs.foreign.map((f) =>
      f.quietPeriod === undefined ? { dir: f.dir } : { dir: f.dir, quietMs: f.quietPeriod },
    ),
    dataDir: config.dataDir,
    host: hostname(),
    keyTemplate: logs.keyTemplate,
    prefix: logs.s3?.prefix ?? '',
    localRetentionMs: logs.localRetention,
    quietMs: logs.quietPeriod,
    intervalMs: logs.shipInterval,
    maxBacklogBytes: logs.maxBacklogBytes,
    stopDeadlineMs: more.stopDeadlineMs ?? logs.shutdownUploadDeadline,
    owner: more.owner,
    ...(logs.remoteRetention !== undefined ? { remoteRetentionMs: logs.remoteRetention } : {}),
  };
}
