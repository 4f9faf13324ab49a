/**
 * Slack's end of Socket Mode, for the Slack stand-in: a WebSocket server
 * that says `hello` to the app that connects, sends it envelopes it must
 * acknowledge within 3 seconds (Slack gives up on them after), can send one
 * again with `retry_attempt`/`retry_reason`, and can ask the app to
 * reconnect with a `disconnect` envelope.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/** How long Slack waits for a Socket Mode envelope's acknowledgement. */
export const ACK_WITHIN_MS = 3_000;

export interface SlackEnvelope {
  envelope_id: string;
  type: 'interactive' | 'slash_commands';
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export class SocketModeLink {
  readonly #sockets: WebSocketServer;
  /** Connections that got their `hello`. */
  readonly #connected = new Set<WebSocket>();
  readonly #acks = new Map<string, (payload: unknown) => void>();

  constructor(server: Server, path: string) {
    this.#sockets = new WebSocketServer({ server, path });
    this.#sockets.on('connection', (socket) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (message.envelope_id) this.#acks.get(message.envelope_id)?.(message.payload);
      });
      socket.on('close', () => this.#connected.delete(socket));
      socket.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          debug_info: { host: 'applink-standin', approximate_connection_time: 18060 },
          connection_info: { app_id: 'A0SLUICE' },
        }),
      );
      this.#connected.add(socket);
    });
  }

  get connections(): number {
    return this.#connected.size;
  }

  async send(
    type: SlackEnvelope['type'],
    payload: Record<string, unknown>,
    redeliver?: { of: SlackEnvelope; reason?: string },
  ): Promise<{ ack: unknown; envelope: SlackEnvelope }> {
    const [socket] = this.#connected;
    if (!socket) throw new Error('no Socket Mode connection');
    const envelope: SlackEnvelope = redeliver
      ? {
          ...redeliver.of,
          retry_attempt: (redeliver.of.retry_attempt ?? 0) + 1,
          retry_reason: redeliver.reason ?? 'timeout',
        }
      : { envelope_id: randomUUID(), payload, type, accepts_response_payload: type === 'slash_commands' };
    const id = envelope.envelope_id;
    const acked = new Promise<unknown>((done, fail) => {
      const timer = setTimeout(
        () => (
          this.#acks.delete(id),
          fail(new Error(`the app did not acknowledge envelope ${id} within ${ACK_WITHIN_MS} ms`))
        ),
        ACK_WITHIN_MS,
      );
      this.#acks.set(id, (ack) => (clearTimeout(timer), this.#acks.delete(id), done(ack)));
    });
    socket.send(JSON.stringify(envelope));
    return { ack: await acked, envelope };
  }

  async disconnect(reason: string): Promise<void> {
    const [old] = this.#connected;
    if (!old) throw new Error('no Socket Mode connection');
    const reconnected = new Promise<void>((done) => this.#sockets.once('connection', () => done()));
    old.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-standin' } }));
    await reconnected;
    old.terminate();
    this.#connected.delete(old);
  }

  close(): void {
    for (const socket of this.#sockets.clients) socket.terminate();
    this.#sockets.close();
  }
}
