import { connect } from 'node:tls';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { parseClientHello } from './client-hello.ts';

/** The ClientHello a real Node TLS client sends for `servername`. */
async function capture(servername?: string): Promise<Buffer> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
      });
    }),
  );
  const client = connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername,
    rejectUnauthorized: false,
  });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

describe('ClientHello SNI parsing', () => {
  it('reads the server name from a real ClientHello, in pieces too', async () => {
    const hello = await capture('Abc.Example.com');
    expect(parseClientHello(hello)).to.deep.equal({ state: 'ok', serverName: 'abc.example.com' });
    expect(parseClientHello(hello.subarray(0, 40)).state).to.equal('incomplete');
  });

  it('reports no name when the client sends none', async () => {
    expect(parseClientHello(await capture())).to.deep.equal({ state: 'ok', serverName: null });
  });

  it('refuses what is not TLS and survives garbage and lies about lengths', async () => {
    expect(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')).state).to.equal('not-tls');
    const hello = await capture('x.test');
    for (let i = 0; i < 300; i++) {
      const mutated = Buffer.from(hello);
      mutated[5 + Math.floor(Math.random() * (mutated.length - 5))] = Math.floor(Math.random() * 256);
      expect(() => parseClientHello(mutated)).to.not.throw();
    }
    const lying = Buffer.from(hello);
    lying.writeUInt16BE(0xffff, 3);
    expect(parseClientHello(lying).state).to.equal('not-tls');
  });
});
