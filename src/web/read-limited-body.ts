/**
 * Reads a request body for the routes that take one before anything else
 * can (GitHub's webhooks, Slack's requests), with two limits of its own: a
 * size, so a huge body is never held whole, and a deadline, so a client that
 * trickles its body a byte at a time (slow loris) cannot hold a socket, and
 * the memory of what it sent so far, for ever. Node's own `requestTimeout`
 * is five minutes and counts from the first byte; GitHub and Slack send a
 * whole body at once, well within seconds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { formatDuration } from '../format-duration.ts';

/** How long a body may take to arrive whole. */
export const BODY_DEADLINE_MS = 10_000;

export type LimitedBody = { ok: true; body: Buffer } | { ok: false; status: 408 | 413 };

export function readLimitedBody(
  req: IncomingMessage,
  limit: number,
  deadlineMs = BODY_DEADLINE_MS,
): Promise<LimitedBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve({ ok: false, status: 413 });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: LimitedBody) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
      // What is left of a refused body is not read here (refuseBody decides).
      if (!result.ok) req.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish({ ok: false, status: 413 });
      chunks.push(chunk);
    };
    const onEnd = () => finish({ ok: true, body: Buffer.concat(chunks) });
    // A client that goes away mid-body gets no answer; it is treated as too slow, which closes the socket.
    const onError = () => finish({ ok: false, status: 408 });
    const timer = setTimeout(() => finish({ ok: false, status: 408 }), deadlineMs);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** How long a client refused for a body too large may go on sending before its connection is closed under it. */
export const LINGER_MS = 2_000;

/**
 * Answers a refused body with why, then closes the connection. A client too
 * slow is cut off once the answer is out. A client whose body is too large
 * is likely still sending it, so what it sends is read and dropped for a
 * moment first (a lingering close): closed at once, the socket would answer
 * the bytes in flight with a reset, and a reset makes the client's system
 * throw away the answer it had not read yet — the client would see
 * "connection reset", not why. The rest of a body is never kept.
 */
export function refuseBody(req: IncomingMessage, res: ServerResponse, status: 408 | 413, what: string): void {
  if (status === 408) {
    const text = `This body did not arrive whole within ${formatDuration(BODY_DEADLINE_MS)}, so Sluice stopped waiting for it; nothing was stored. Send the whole body at once.\n`;
    res.writeHead(408, { 'content-type': 'text/plain', connection: 'close' }).end(text, () => req.destroy());
    return;
  }
  const socket = req.socket;
  const close = setTimeout(() => socket.destroy(), LINGER_MS);
  close.unref();
  socket.once('close', () => clearTimeout(close));
  req.on('end', () => socket.destroy()).resume();
  // No `connection: close`: Node would close the socket as soon as the answer is out; the timer or the body's end does.
  res
    .writeHead(413, { 'content-type': 'text/plain' })
    .end(`This body is larger than the ${what}; nothing was stored.\n`);
}
