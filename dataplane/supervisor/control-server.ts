// The Unix socket the operator talks to. The data plane listens (it outlives operator restarts); the socket file is
// created with mode 0600 so that only the same user (the operator container's) can connect. One operator connection
// is served at a time: a new connection replaces the previous one (an operator restarted or a replica took over).

import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameDecoder, encodeFrame } from '../../shared/protocol/frames.ts';
import { PROTOCOL_VERSION } from '../../shared/protocol/messages.ts';
import type { ConfigMessage, DataPlaneMessage, OperatorMessage } from '../../shared/protocol/messages.ts';

export interface ControlHandlers {
  hello(): DataPlaneMessage;
  /** Applies one config message; resolves with the ack or nack to send back. */
  config(message: ConfigMessage): Promise<DataPlaneMessage>;
  /** The periodic stats message (it may take a moment: traffic is read from the shards). */
  stats(): DataPlaneMessage | Promise<DataPlaneMessage>;
}

export interface ControlServer {
  close(): Promise<void>;
}

export async function startControlServer(
  path: string,
  handlers: ControlHandlers,
  log: Logger,
  statsIntervalMs: number,
): Promise<ControlServer> {
  if (existsSync(path)) unlinkSync(path); // a stale socket from a previous run; nothing can be listening on it
  let active: Socket | null = null;
  const server: Server = createServer((socket) => {
    if (active !== null) {
      log.warn('a new operator connected; closing the previous connection');
      active.destroy();
    }
    active = socket;
    serve(socket, handlers, log, statsIntervalMs, () => {
      if (active === socket) active = null;
    });
  });
  const previousMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(previousMask);
  }
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        (active as Socket | null)?.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(
  socket: Socket,
  handlers: ControlHandlers,
  log: Logger,
  statsIntervalMs: number,
  onClose: () => void,
): void {
  const decoder = new FrameDecoder();
  let greeted = false;
  let chain: Promise<void> = Promise.resolve();
  const write = (message: DataPlaneMessage) => {
    if (!socket.destroyed) socket.write(encodeFrame(message));
  };
  let statsInFlight = false;
  const stats = setInterval(() => {
    // A tick that finds the previous one still reading the shards is skipped rather than queued.
    if (!greeted || statsInFlight) return;
    statsInFlight = true;
    Promise.resolve(handlers.stats())
      .then(write, (error: Error) => log.warn({ err: error }, 'could not gather stats'))
      .finally(() => (statsInFlight = false));
  }, statsIntervalMs);
  stats.unref();
  socket.on('close', () => {
    clearInterval(stats);
    onClose();
  });
  socket.on('error', (error) => log.warn({ err: error }, 'operator connection error'));
  write(handlers.hello());
  socket.on('data', (chunk: Buffer) => {
    const { messages, error } = decoder.push(chunk);
    for (const raw of messages) {
      const message = raw as OperatorMessage;
      if (!greeted) {
        if (message?.type !== 'hello' || message.protocol !== PROTOCOL_VERSION) {
          log.error(
            { got: message?.type, protocol: (message as { protocol?: unknown })?.protocol },
            `operator did not open with hello for protocol ${PROTOCOL_VERSION}; closing`,
          );
          socket.destroy();
          return;
        }
        greeted = true;
        log.info({ operator: message.instance }, 'operator connected');
        continue;
      }
      if (message?.type === 'config') {
        // Generations are applied strictly in order of arrival.
        chain = chain.then(() => handlers.config(message).then(write));
      } else log.warn({ type: (message as { type?: unknown })?.type }, 'ignoring an unknown message from the operator');
    }
    if (error !== undefined) {
      log.error({ error }, 'malformed frame from the operator; closing the connection');
      socket.destroy();
    }
  });
}
