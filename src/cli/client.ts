import { ErrorCodes, OverseerError } from '../errors/index.js';
import { fetchFailure } from '../fetch-failure.js';

export interface ApiClientOptions {
  baseUrl: string;
  token: string | undefined;
  timeoutMs?: number;
}

/** The CLI's client for the service API: JSON in, JSON out, problem+json turned into coded errors. */
export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = await this.send(method, path, body, 'application/json');
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A GET whose body is printed as it is (CSV), not parsed. */
  requestText(path: string, accept: string): Promise<string> {
    return this.send('GET', path, undefined, accept);
  }

  private async send(method: string, path: string, body: unknown, accept: string): Promise<string> {
    if (!this.opts.token) {
      throw new OverseerError(ErrorCodes.CLI_TOKEN_MISSING, 'no API token', {
        hint: 'pass --token or set OVERSEER_TOKEN; on the service host the CLI reads <dataDir>/admin-token (see --config)',
        exitCode: 2,
      });
    }
    const url = new URL(path.replace(/^\//, ''), this.opts.baseUrl.replace(/\/?$/, '/'));
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.opts.token}`,
          accept,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (cause) {
      const reason = fetchFailure(cause);
      throw new OverseerError(
        ErrorCodes.CLI_SERVER_UNREACHABLE,
        `cannot reach overseer at ${this.opts.baseUrl} (${reason})`,
        {
          hint: 'start it with `overseer serve`, or point --server / OVERSEER_URL at the running service',
          cause,
        },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      let problem: { title?: string; detail?: string; code?: number; hint?: string; errors?: string[] } = {};
      try {
        problem = JSON.parse(text) as typeof problem;
      } catch {
        problem = { title: text.slice(0, 200) };
      }
      throw new OverseerError(
        ErrorCodes.CLI_API_ERROR,
        `${method} ${url.pathname} failed: ${res.status} ${problem.title ?? res.statusText}${problem.code ? ` (server error ${problem.code})` : ''}`,
        {
          details: problem.errors ?? [],
          ...(problem.hint ? { hint: problem.hint } : {}),
          cause: { status: res.status, code: problem.code } satisfies ApiFailure,
        },
      );
    }
    return text;
  }
}

/** The `cause` of a failed API call: the HTTP status and the server's error code, when it sent one. */
export interface ApiFailure {
  status: number;
  code: number | undefined;
}

/** The HTTP status and server error code behind a failed API call, if `err` is one. */
export function apiFailureOf(err: unknown): ApiFailure | undefined {
  const cause = err instanceof Error ? (err.cause as Partial<ApiFailure> | undefined) : undefined;
  return typeof cause?.status === 'number'
    ? { status: cause.status, code: typeof cause.code === 'number' ? cause.code : undefined }
    : undefined;
}
