// A minimal WebSocket echo endpoint (RFC 6455: handshake, text frames up to 64 KiB, close) for the echo server, so
// tests can run a real browser-grade client (Node's global WebSocket) through the gateway.

import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const head =
    payload.length < 126
      ? Buffer.from([0x80 | opcode, payload.length])
      : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

/** `head`: bytes that came after the upgrade request's head (node:http hands them over with the 'upgrade' event). */
export function acceptWebSocket(name: string, req: IncomingMessage, socket: Socket, head?: Buffer): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') return void socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-backend: ${name}\r\n\r\n`,
  );
  let buffered = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const opcode = buffered[0] & 0x0f;
      let length = buffered[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      }
      const masked = (buffered[1] & 0x80) !== 0;
      const total = offset + (masked ? 4 : 0) + length;
      if (buffered.length < total) return;
      const mask = masked ? buffered.subarray(offset, offset + 4) : null;
      const payload = Buffer.from(buffered.subarray(total - length, total));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
      buffered = buffered.subarray(total);
      if (opcode === 0x8) return void socket.end(frame(0x8, Buffer.alloc(0)));
      if (opcode === 0x1) socket.write(frame(0x1, Buffer.from(`${name}: ${payload.toString('utf8')}`)));
      if (opcode === 0x9) socket.write(frame(0xa, payload));
    }
  };
  socket.on('data', onData);
  if (head !== undefined && head.length > 0) onData(head);
  socket.on('error', () => socket.destroy());
  // The peer's FIN ends our side too: an upgraded socket is no longer the HTTP server's, so server.close() waits for it.
  socket.on('end', () => socket.end());
}
