import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { ErrorCodes, OverseerError } from '../errors/index.js';
import type { Component } from '../lifecycle.js';
import type { AppEnv } from './env.js';

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  return { host, port: Number(listen.slice(i + 1)) };
}

/** The HTTP listener as a component: start resolves once listening, stop drains then closes. */
export class HttpServer implements Component {
  readonly name = 'http';
  private server: Server | undefined;
  private bound: { host: string; port: number } | undefined;

  constructor(private readonly deps: { app: Hono<AppEnv>; listen: string; logger: Logger }) {}

  /** The base URL actually bound (port 0 in config becomes the real port). */
  get url(): string {
    if (!this.bound) throw new Error('http server not started');
    const host = this.bound.host.includes(':') ? `[${this.bound.host}]` : this.bound.host;
    return `http://${host}:${this.bound.port}`;
  }

  async start(): Promise<void> {
    const { host, port } = parseListen(this.deps.listen);
    await new Promise<void>((resolve, reject) => {
      const server = serve({ fetch: this.deps.app.fetch, hostname: host, port }) as Server;
      const onError = (cause: NodeJS.ErrnoException): void => {
        server.close();
        reject(
          new OverseerError(
            ErrorCodes.SERVER_LISTEN_FAILED,
            `cannot listen on ${this.deps.listen}: ${cause.code ?? cause.message}`,
            {
              hint: 'another process may hold the port; set server.listen (or OVERSEER_SERVER_LISTEN) to a free host:port',
              cause,
            },
          ),
        );
      };
      server.once('error', onError);
      server.once('listening', () => {
        server.off('error', onError);
        server.on('error', (err) => this.deps.logger.error({ err }, 'http server error'));
        const addr = server.address() as AddressInfo;
        this.bound = { host: addr.address, port: addr.port };
        this.server = server;
        this.deps.logger.info({ url: this.url }, 'listening');
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Stop accepting, let in-flight requests finish; idle keep-alive sockets would otherwise hold close open.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
  }
}
