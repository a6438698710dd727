/** Load of one host, as `GET /api/v1/hosts` serves it and capacity planning reads it. */
export interface HostLoad {
  host: string;
  /** CPU utilisation 0..1 over the load window; null until two scrapes are in it. */
  cpu: number | null;
  /** 1 − available/total memory, 0..1. */
  memory: number | null;
  load1: number | null;
  up: boolean;
  /** Last scrape of the host's node metrics, RFC 3339. */
  lastScrape: string | null;
  /** Target labels of the node metrics target (job, instance, host, …). */
  labels: Record<string, string>;
  source: 'scrape' | 'prometheus';
  /** Seconds of history the CPU ratio covers. */
  cpuWindowSeconds: number | null;
  memorySource: 'MemAvailable' | 'MemFree+Buffers+Cached' | null;
  /** CPUs (idle series of node_cpu_seconds_total); null when unknown. */
  cpuCores: number | null;
  /** node_memory_MemTotal_bytes; null when unknown. */
  memoryBytes: number | null;
}

/** Where host load comes from: Overseer's own scrapes, or a Prometheus server's query API. */
export interface MetricsSource {
  readonly kind: HostLoad['source'];
  hosts(): Promise<HostLoad[]>;
}
