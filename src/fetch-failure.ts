/**
 * Why a fetch() failed, in a few words: `no answer within N ms` for a timeout (AbortSignal.timeout), the
 * socket error code (ECONNREFUSED, ENOTFOUND, …) that undici hides in `cause`, else the message.
 */
export function fetchFailure(e: unknown, timeoutMs?: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string } };
  if (err.name === 'TimeoutError')
    return timeoutMs === undefined ? 'no answer in time' : `no answer within ${timeoutMs} ms`;
  return err.cause?.code ?? err.message ?? String(e);
}
