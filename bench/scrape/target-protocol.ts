export interface TargetServerOptions {
  targets: number;
  series: number;
  gzip: boolean;
}

export interface TargetStats {
  requests: number;
  gzip: number;
  identity: number;
  bytes: number;
  errors: number;
}

export type ToTargetServer = { type: 'stats' };
export type FromTargetServer =
  { type: 'ready'; ports: number[]; bodyBytes: number } | { type: 'stats'; stats: TargetStats };
