import { join } from 'node:path';
import { startMinioServer, startS3Server, type S3Server } from './s3-server';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-server';

export interface S3ServerInfo {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  bucket: string;
}

/** What tests, the demo and `bloomsight services up` need to reach the local services. */
export interface LocalServicesInfo {
  temporal?: { address: string; namespace: string; uiUrl?: string };
  /** versitygw: the default local S3 server. */
  s3?: S3ServerInfo;
  /** MinIO, when asked for (the tests run the store suite and a pipeline against both). */
  minio?: S3ServerInfo;
}

export interface LocalServices {
  info: LocalServicesInfo;
  temporal?: TemporalDevServer;
  s3?: S3Server;
  minio?: S3Server;
  stop(): Promise<void>;
}

/** Starts a Temporal dev server and/or an S3 server under `dir`, in parallel, and stops whatever started if one fails. */
export async function startLocalServices(options: { dir: string; temporal?: boolean; s3?: boolean; minio?: boolean; bucket?: string; log?: (line: string) => void }): Promise<LocalServices> {
  const log = options.log ?? (() => {});
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
  try {
    const [temporal, s3, minio] = await Promise.all([
      options.temporal === false
        ? undefined
        : startTemporalDevServer({ dir: join(options.dir, 'temporal') }).then((server) => {
            started.push(server);
            log(`temporal dev server ${server.address} (pid ${server.process.pid}) started; Web UI ${server.uiUrl}`);
            return server;
          }),
      options.s3 === false
        ? undefined
        : startS3Server({ dir: join(options.dir, 's3') }).then((server) => {
            started.push(server);
            log(`S3 server ${server.endpoint} (versitygw, pid ${server.process.pid}) started`);
            return server;
          }),
      !options.minio
        ? undefined
        : startMinioServer({ dir: join(options.dir, 'minio') }).then((server) => {
            started.push(server);
            log(`S3 server ${server.endpoint} (MinIO, pid ${server.process.pid}) started`);
            return server;
          }),
    ]);
    const bucket = options.bucket ?? 'bloomsight';
    const s3Info = (server: S3Server): S3ServerInfo => ({ endpoint: server.endpoint, accessKey: server.accessKey, secretKey: server.secretKey, region: server.region, bucket });
    const info: LocalServicesInfo = {
      temporal: temporal && { address: temporal.address, namespace: temporal.namespace, uiUrl: temporal.uiUrl },
      s3: s3 && s3Info(s3),
      minio: minio && s3Info(minio),
    };
    return {
      info,
      temporal,
      s3,
      minio,
      async stop() {
        await stopAll();
        if (temporal) log(`temporal dev server ${temporal.address} stopped`);
        if (s3) log(`S3 server ${s3.endpoint} stopped`);
        if (minio) log(`MinIO ${minio.endpoint} stopped`);
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
