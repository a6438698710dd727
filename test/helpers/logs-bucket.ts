import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { rawS3Client, type S3rverInstance } from './s3rver.js';

/** One object as stored: its key, its gunzipped text, and whether its bytes match its sha256 metadata. */
export interface BucketObject {
  key: string;
  text: string;
  size: number;
  sha256Matches: boolean;
}

/** Every object under `prefix`, every page followed, read and checked without Overseer's code. */
export async function readBucket(s3: S3rverInstance, prefix: string): Promise<BucketObject[]> {
  const client = rawS3Client(s3);
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: s3.bucket,
          Prefix: prefix,
          ContinuationToken: token,
          MaxKeys: 100,
        }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key!);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const out: BucketObject[] = [];
    for (const key of keys) {
      const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
      const body = Buffer.from(await got.Body!.transformToByteArray());
      const sha256 = createHash('sha256').update(body).digest('hex');
      out.push({
        key,
        text: gunzipSync(body).toString('utf8'),
        size: body.length,
        sha256Matches: got.Metadata?.sha256 === sha256,
      });
    }
    return out;
  } finally {
    client.destroy();
  }
}
