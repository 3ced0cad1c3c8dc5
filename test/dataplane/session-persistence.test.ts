// GEP-1619 session persistence through the real data plane (2 shards) over real sockets: HTTP/1.1 (the engine) and
// HTTP/2 (the Fastify front end) clients, HTTP/1.1 and h2c backends of three endpoints each that answer with their own
// name. A token pins a client to its endpoint; a forged one, one for another backend, or one for an endpoint that left
// the backend is ignored and replaced; a weighted split is not overridden (the GEP says so).

import { createServer as createH1Server } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import type { Http2Server, Http2ServerRequest, Http2ServerResponse, ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Client } from 'undici';
import type { Backend } from '../../shared/ir/backend.ts';
import type { HttpRule, SessionPersistence } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';
import type { ClientProtocol, Reply } from '../support/http-client.ts';

const BACKEND_PROTOCOLS = ['http1', 'h2c'] as const;
type BackendProtocol = (typeof BACKEND_PROTOCOLS)[number];

const COOKIE: SessionPersistence = { type: 'Cookie', name: 'sess', permanent: false, cookiePath: '/' };
const PERMANENT: SessionPersistence = {
  type: 'Cookie',
  name: 'keep',
  permanent: true,
  absoluteTimeoutMs: 3_600_000,
  cookiePath: '/app',
};
const HEADER: SessionPersistence = { type: 'Header', name: 'x-session', permanent: false, cookiePath: '/' };

/** The token in a reply's Set-Cookie for cookie `name`, or null. */
function cookieToken(reply: Reply, name: string): string | null {
  const raw = reply.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  return line === undefined ? null : line.slice(name.length + 1).split(';')[0];
}

function setCookieLine(reply: Reply, name: string): string {
  const raw = reply.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return lines.find((l) => l.startsWith(`${name}=`)) ?? '';
}

describe('data plane: session persistence (GEP-1619) on both front ends, to HTTP/1.1 and h2c backends', () => {
  const address = testAddress();
  const port = 18407;
  const base = `http://${address}:${port}`;
  let h: Harness;
  const servers: Array<Server | Http2Server> = [];
  const sessions = new Set<ServerHttp2Session>();
  const ports: Record<BackendProtocol, number[]> = { http1: [], h2c: [] };
  let backends: Backend[] = [];
  let rules: HttpRule[] = [];
  const l = httpListener('ns/gw/sticky', port, { address });

  const named =
    (name: string) => (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
      req.resume();
      // The backend's own cookie must reach the client beside the gateway's.
      (res as ServerResponse).writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'app=1; Path=/' });
      res.end(name);
    };

  const publish = async (records: Backend[]) => {
    const routes = [httpRoute('httproute/ns/sticky', [l.key], rules)];
    expect((await h.publish({ listeners: [l], backends: records, httpRoutes: routes })).outcome).to.equal('ack');
  };

  before(async () => {
    for (const protocol of BACKEND_PROTOCOLS) {
      for (let i = 0; i < 3; i++) {
        const name = `${protocol}-${i}`;
        const server = protocol === 'h2c' ? createH2Server(named(name)) : createH1Server(named(name));
        if (protocol === 'h2c')
          (server as Http2Server).on('session', (s) => {
            sessions.add(s);
            s.once('close', () => sessions.delete(s));
          });
        await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        servers.push(server);
        ports[protocol].push((server.address() as AddressInfo).port);
      }
    }
    h = await startHarness();
    for (const protocol of BACKEND_PROTOCOLS) {
      const endpoints = ports[protocol].map((p): [string, number] => ['127.0.0.1', p]);
      backends.push(backend(`ns/${protocol}:80`, endpoints, { protocol }));
      // The same endpoints under another backend key: a token of one backend must not pin in the other.
      backends.push(backend(`ns/${protocol}-other:80`, endpoints, { protocol }));
      rules.push(
        rule([prefix(`/${protocol}/cookie`)], [`ns/${protocol}:80`], { sessionPersistence: COOKIE }),
        rule([prefix(`/${protocol}/other`)], [`ns/${protocol}-other:80`], { sessionPersistence: COOKIE }),
        rule([prefix(`/${protocol}/header`)], [`ns/${protocol}:80`], { sessionPersistence: HEADER }),
        rule([prefix(`/${protocol}/app`)], [`ns/${protocol}:80`], { sessionPersistence: PERMANENT }),
        rule([prefix(`/${protocol}/plain`)], [`ns/${protocol}:80`]),
      );
    }
    await publish(backends);
  });
  after(async () => {
    await h?.stop();
    for (const s of sessions) s.destroy();
    for (const server of servers) {
      (server as Server).closeAllConnections?.();
      server.close();
    }
  });

  const cases: Array<[ClientProtocol, BackendProtocol]> = [];
  for (const client of CLIENT_PROTOCOLS) for (const b of BACKEND_PROTOCOLS) cases.push([client, b]);
  const send = (client: ClientProtocol, url: string, headers: Record<string, string> = {}) =>
    getWith(client)(url, { headers: { host: 'sticky.test', ...headers } });

  for (const [client, protocol] of cases) {
    const label = `${client} client → ${protocol} backend`;

    it(`a cookie pins every later request to one endpoint, and no new cookie is set (${label})`, async () => {
      const first = await send(client, `${base}/${protocol}/cookie`);
      expect(first.status).to.equal(200);
      const line = setCookieLine(first, 'sess');
      expect(line, 'Set-Cookie of the session').to.match(
        /^sess=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Strict$/,
      );
      expect(line, 'a session cookie has no lifetime').to.not.match(/Max-Age|Expires/);
      expect(first.headers['set-cookie'], "the backend's own cookie is kept").to.include('app=1; Path=/');
      const token = cookieToken(first, 'sess') as string;
      for (const port of ports[protocol]) expect(token).to.not.include(String(port));
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const reply = await send(client, `${base}/${protocol}/cookie`, { cookie: `a=b; sess=${token}; c=d` });
        expect(reply.status).to.equal(200);
        expect(cookieToken(reply, 'sess'), 'no new session for a valid token').to.equal(null);
        seen.add(reply.text);
      }
      expect([...seen]).to.deep.equal([first.text]);
      // Without the token the same rule spreads requests over the endpoints (so the pinning came from the token).
      const spread = new Set<string>();
      for (let i = 0; i < 6; i++) spread.add((await send(client, `${base}/${protocol}/cookie`)).text);
      expect(spread.size).to.be.greaterThan(1);
    });

    it(`a forged token, or one of another backend, is ignored and replaced (${label})`, async () => {
      const forged = await send(client, `${base}/${protocol}/cookie`, { cookie: 'sess=AAAAAAAAAAAAAAAAAAAAAA' });
      expect(forged.status).to.equal(200);
      expect(cookieToken(forged, 'sess')).to.match(/^[A-Za-z0-9_-]{22}$/);
      const own = cookieToken(await send(client, `${base}/${protocol}/cookie`), 'sess') as string;
      // The same endpoints under another backend key: a token is bound to its backend.
      const other = await send(client, `${base}/${protocol}/other`, { cookie: `sess=${own}` });
      const replaced = cookieToken(other, 'sess');
      expect(replaced, 'a new token for the other backend').to.match(/^[A-Za-z0-9_-]{22}$/);
      expect(replaced).to.not.equal(own);
    });

    it(`a header session pins through the request header and is issued in the response header (${label})`, async () => {
      const first = await send(client, `${base}/${protocol}/header`);
      const token = first.headers['x-session'];
      expect(token)
        .to.be.a('string')
        .and.match(/^[A-Za-z0-9_-]{22}$/);
      const seen = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const reply = await send(client, `${base}/${protocol}/header`, { 'x-session': token as string });
        expect(reply.headers['x-session']).to.equal(undefined);
        seen.add(reply.text);
      }
      expect([...seen]).to.deep.equal([first.text]);
    });

    it(`a permanent cookie carries Max-Age and its path, and its token is sealed with its issue time (${label})`, async () => {
      const first = await send(client, `${base}/${protocol}/app`);
      const line = setCookieLine(first, 'keep');
      expect(line).to.match(
        /^keep=[A-Za-z0-9_-]{22}\.[0-9a-z]+\.[A-Za-z0-9_-]{16}; Path=\/app; Max-Age=3600; HttpOnly; SameSite=Strict$/,
      );
      const token = cookieToken(first, 'keep') as string;
      const again = await send(client, `${base}/${protocol}/app`, { cookie: `keep=${token}` });
      expect(again.text).to.equal(first.text);
      expect(cookieToken(again, 'keep')).to.equal(null);
      // Moving the issue time forward (to stretch the session) breaks the seal: a new session.
      const [id, issued, tag] = token.split('.');
      const stretched = `${id}.${(Number.parseInt(issued, 36) + 1000).toString(36)}.${tag}`;
      const refused = await send(client, `${base}/${protocol}/app`, { cookie: `keep=${stretched}` });
      expect(cookieToken(refused, 'keep')).to.not.equal(null);
    });

    it(`a rule without session persistence sets no cookie (${label})`, async () => {
      const reply = await send(client, `${base}/${protocol}/plain`);
      expect(cookieToken(reply, 'sess')).to.equal(null);
      expect([reply.headers['set-cookie']].flat()).to.deep.equal(['app=1; Path=/']);
    });
  }

  it('a token holds across shards: fresh HTTP/1.1 connections (spread over 2 shards) all reach one endpoint', async () => {
    const first = await send('HTTP/1.1', `${base}/http1/cookie`);
    const token = cookieToken(first, 'sess') as string;
    const seen = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const client = new Client(base);
      try {
        const res = await client.request({
          path: '/http1/cookie',
          method: 'GET',
          headers: { host: 'sticky.test', cookie: `sess=${token}` },
        });
        seen.add(await res.body.text());
      } finally {
        await client.close();
      }
    }
    expect([...seen]).to.deep.equal([first.text]);
  });

  it('an endpoint that left the backend is re-picked, and the client gets a new token', async () => {
    for (const client of CLIENT_PROTOCOLS) {
      const first = await send(client, `${base}/http1/cookie`);
      const token = cookieToken(first, 'sess') as string;
      const pinned = Number(first.text.split('-')[1]);
      const remaining = ports.http1.filter((_, i) => i !== pinned);
      const shrunk = backends.map((b) =>
        b.key === 'ns/http1:80'
          ? backend(
              b.key,
              remaining.map((p): [string, number] => ['127.0.0.1', p]),
            )
          : b,
      );
      await publish(shrunk);
      try {
        const after = await send(client, `${base}/http1/cookie`, { cookie: `sess=${token}` });
        expect(after.status).to.equal(200);
        expect(after.text).to.not.equal(first.text);
        const renewed = cookieToken(after, 'sess') as string;
        expect(renewed).to.match(/^[A-Za-z0-9_-]{22}$/);
        const again = await send(client, `${base}/http1/cookie`, { cookie: `sess=${renewed}` });
        expect(again.text).to.equal(after.text);
      } finally {
        await publish(backends);
      }
      // Back in the set, the endpoint is reachable by its old token again (its id depends on the backend and address).
      const back = await send(client, `${base}/http1/cookie`, { cookie: `sess=${token}` });
      expect(back.text).to.equal(first.text);
    }
  });

  it("a backend's session persistence (an XBackendTrafficPolicy's) applies, and a rule's own takes precedence", async () => {
    const policyBackend = backend(
      'ns/policy:80',
      ports.http1.map((p): [string, number] => ['127.0.0.1', p]),
      {
        sessionPersistence: { type: 'Cookie', name: 'policy', permanent: false, cookiePath: '/' },
      },
    );
    backends = [...backends, policyBackend];
    rules = [
      ...rules,
      rule([prefix('/policy/own')], ['ns/policy:80'], { sessionPersistence: HEADER }),
      rule([prefix('/policy')], ['ns/policy:80']),
    ];
    await publish(backends);
    for (const client of CLIENT_PROTOCOLS) {
      const first = await send(client, `${base}/policy`);
      const token = cookieToken(first, 'policy') as string;
      expect(token, `${client}: the backend's cookie`).to.match(/^[A-Za-z0-9_-]{22}$/);
      for (let i = 0; i < 4; i++)
        expect((await send(client, `${base}/policy`, { cookie: `policy=${token}` })).text).to.equal(first.text);
      const own = await send(client, `${base}/policy/own`);
      expect(cookieToken(own, 'policy'), `${client}: no backend cookie where the rule has its own`).to.equal(null);
      expect(own.headers['x-session']).to.match(/^[A-Za-z0-9_-]{22}$/);
    }
  });

  it('a weighted split is not overridden: a token pins within the backend the split chose (GEP-1619)', async () => {
    rules = [
      ...rules,
      {
        ...rule([prefix('/split')], ['ns/http1:80', 'ns/h2c:80'], { sessionPersistence: COOKIE }),
      },
    ];
    await publish(backends);
    const first = await send('HTTP/1.1', `${base}/split`);
    const token = cookieToken(first, 'sess') as string;
    const pinnedBackend = first.text.split('-')[0];
    const counts = new Map<string, number>();
    for (let i = 0; i < 40; i++) {
      const reply = await send('HTTP/1.1', `${base}/split`, { cookie: `sess=${token}` });
      counts.set(reply.text, (counts.get(reply.text) ?? 0) + 1);
    }
    const backendsHit = new Set([...counts.keys()].map((t) => t.split('-')[0]));
    // Both backends still get requests (the split), and within the pinned backend only the pinned endpoint does.
    expect([...backendsHit].sort()).to.deep.equal(['h2c', 'http1']);
    const inPinned = [...counts.keys()].filter((t) => t.startsWith(`${pinnedBackend}-`));
    expect(inPinned).to.deep.equal([first.text]);
  });
});
