import pg from 'pg';
import type { Logger } from 'pino';

/** What a LISTEN delivers: each payload, and whether the channel is being listened to right now. */
export interface ListenHandlers {
  onMessage(payload: string): void;
  /**
   * true once LISTEN is in place (again), false when the connection is lost: notifications sent while
   * not listening are gone, so whatever was derived from them must be rebuilt when it comes back.
   */
  onState(listening: boolean): void;
}

export interface Subscription {
  close(): Promise<void>;
}

export type Listen = (channel: string, handlers: ListenHandlers) => Promise<Subscription>;

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

/**
 * LISTEN on real Postgres over a connection of its own (a pooled one would be handed back and the
 * subscription lost with it), reconnecting with capped backoff until closed.
 */
export function pgListen(url: string, logger: Logger): Listen {
  return async (channel, handlers) => {
    let closed = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    let delay = BACKOFF_MIN_MS;

    const lost = (err: unknown): void => {
      const c = client;
      client = undefined;
      if (c !== undefined) {
        c.removeAllListeners('notification');
        c.end().catch(() => undefined);
        handlers.onState(false);
      }
      if (closed) return;
      logger.warn({ err, channel, retryMs: delay }, 'LISTEN connection lost; reconnecting');
      retry = setTimeout(() => void connect(), delay);
      delay = Math.min(delay * 2, BACKOFF_MAX_MS);
    };

    const connect = async (): Promise<void> => {
      retry = undefined;
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      // Before connect: an error event with no listener would crash the process.
      c.on('error', (err) => {
        if (client === c) lost(err);
      });
      c.on('end', () => {
        if (client === c) lost(new Error('connection ended'));
      });
      try {
        await c.connect();
        c.on('notification', (n) => handlers.onMessage(n.payload ?? ''));
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      } catch (err) {
        c.end().catch(() => undefined);
        if (closed) return;
        logger.warn({ err, channel, retryMs: delay }, 'LISTEN failed; retrying');
        retry = setTimeout(() => void connect(), delay);
        delay = Math.min(delay * 2, BACKOFF_MAX_MS);
        return;
      }
      if (closed) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      delay = BACKOFF_MIN_MS;
      handlers.onState(true);
    };

    await connect();
    return {
      async close() {
        closed = true;
        if (retry !== undefined) clearTimeout(retry);
        const c = client;
        client = undefined;
        if (c !== undefined) {
          handlers.onState(false);
          await c.end().catch(() => undefined);
        }
      },
    };
  };
}

/** The embedded database's own LISTEN: same process, so it is never lost while open. */
export function pgliteListen(pglite: {
  listen(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>>;
}): Listen {
  return async (channel, handlers) => {
    const unsubscribe = await pglite.listen(channel, (payload) => handlers.onMessage(payload));
    handlers.onState(true);
    return {
      async close() {
        handlers.onState(false);
        await unsubscribe();
      },
    };
  };
}
