import { fork, type ChildProcess } from 'node:child_process';
import { stopProcess, track } from '../lib/cleanup.js';
import type { FromTargetServer, TargetServerOptions, TargetStats } from './target-protocol.js';

export interface TargetServer {
  ports: number[];
  bodyBytes: number;
  stats(): Promise<TargetStats>;
  stop(): Promise<void>;
}

function nextMessage<T extends FromTargetServer['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromTargetServer, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`target server sent no '${type}' within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: FromTargetServer): void => {
      if (m.type === type) done(undefined, m as Extract<FromTargetServer, { type: T }>);
    };
    const onExit = (code: number | null): void => done(new Error(`target server exited (${code})`));
    function done(err?: Error, m?: Extract<FromTargetServer, { type: T }>): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (m) resolve(m);
      else reject(err ?? new Error('no message'));
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks target-server.ts (the `--import tsx` of this process is inherited) and waits for its ports. */
export async function startTargetServer(options: TargetServerOptions): Promise<TargetServer> {
  const child = track(
    fork(new URL('./target-server.ts', import.meta.url), [JSON.stringify(options)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const ready = await nextMessage(child, 'ready', 60_000);
  return {
    ports: ready.ports,
    bodyBytes: ready.bodyBytes,
    async stats() {
      const reply = nextMessage(child, 'stats', 5_000);
      child.send({ type: 'stats' });
      return (await reply).stats;
    },
    stop: () => stopProcess(child, 3_000),
  };
}
