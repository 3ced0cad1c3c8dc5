// gRPC through the gateway with a real gRPC client and server (@grpc/grpc-js): HTTP/2 with prior knowledge on the
// plain listener, routing by service and method (GRPCRoute becomes path matches), h2c to the backend, metadata
// (headers) and trailers (grpc-status) carried through, a RequestHeaderModifier applied to the metadata, and an
// unrouted method failing as UNIMPLEMENTED.

import { expect } from 'chai';
import * as grpc from '@grpc/grpc-js';
import type { HttpMatch } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const definition = {
  Say: {
    path: '/echo.v1.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
  Fail: {
    path: '/echo.v1.Echo/Fail',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
  Meta: {
    path: '/echo.v1.Echo/Meta',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
  Hidden: {
    path: '/echo.v1.Echo/Hidden',
    requestStream: false,
    responseStream: false,
    requestSerialize: raw.serialize,
    requestDeserialize: raw.deserialize,
    responseSerialize: raw.serialize,
    responseDeserialize: raw.deserialize,
  },
} as grpc.ServiceDefinition;

async function startGrpcServer(name: string): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(definition, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const who = call.metadata.get('x-who')[0] ?? 'nobody';
      callback(null, Buffer.from(`${name} says hello to ${String(who)}: ${call.request.toString()}`));
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback({ code: grpc.status.FAILED_PRECONDITION, details: 'not today' } as grpc.ServiceError);
    },
    // Answers with the metadata the backend received under the names the header-modifier test uses.
    Meta: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const seen = Object.fromEntries(
        ['x-set', 'x-add', 'x-remove', 'x-kept'].map((name) => [name, call.metadata.get(name).map(String)]),
      );
      callback(null, Buffer.from(JSON.stringify(seen)));
    },
    Hidden: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.from('hidden')),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return { server, port };
}

describe('data plane: gRPC', () => {
  const address = testAddress();
  const port = 18091;
  let h: Harness;
  let backendServer: Awaited<ReturnType<typeof startGrpcServer>>;
  let client: grpc.Client;

  before(async () => {
    backendServer = await startGrpcServer('echo-1');
    h = await startHarness();
    const l = httpListener('ns/gw/grpc', port, { address });
    const b = backend('ns/echo:9000/h2c', [['127.0.0.1', backendServer.port]], { protocol: 'h2c' });
    const exact = (value: string): HttpMatch => ({ path: { type: 'Exact', value }, headers: [], queryParams: [] });
    const routes = [
      httpRoute(
        'grpcroute/ns/echo',
        [l.key],
        [
          rule([exact('/echo.v1.Echo/Say'), exact('/echo.v1.Echo/Fail')], [b.key]),
          // GRPCRoute RequestHeaderModifier (GRPCRouteRequestHeaderModifier): metadata are HTTP/2 headers.
          rule([exact('/echo.v1.Echo/Meta')], [b.key], {
            filters: [
              {
                type: 'RequestHeaderModifier',
                set: [{ name: 'X-Set', value: 'from-gateway' }],
                add: [{ name: 'X-Add', value: 'added' }],
                remove: ['X-Remove'],
              },
            ],
          }),
        ],
        { source: { kind: 'GRPCRoute', namespace: 'ns', name: 'echo' } },
      ),
    ];
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: routes })).outcome).to.equal('ack');
    client = new grpc.Client(`${address}:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await h?.stop();
    backendServer?.server.forceShutdown();
  });

  function call(
    method: string,
    payload: string,
    metadata = new grpc.Metadata(),
  ): Promise<{ error: grpc.ServiceError | null; reply: string | null }> {
    return new Promise((resolve) => {
      client.makeUnaryRequest(
        `/echo.v1.Echo/${method}`,
        raw.serialize,
        raw.deserialize,
        Buffer.from(payload),
        metadata,
        { deadline: Date.now() + 5000 },
        (error, reply) => resolve({ error: error ?? null, reply: reply ? reply.toString() : null }),
      );
    });
  }

  it('routes a unary call by method, with metadata, to an h2c backend', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-who', 'portico');
    const { error, reply } = await call('Say', 'ping', metadata);
    expect(error).to.equal(null);
    expect(reply).to.equal('echo-1 says hello to portico: ping');
  });

  it('applies a RequestHeaderModifier to the call’s metadata: set overwrites, add appends, remove removes', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-set', 'from-client');
    metadata.set('x-add', 'original');
    metadata.set('x-remove', 'secret');
    metadata.set('x-kept', 'kept');
    const { error, reply } = await call('Meta', 'x', metadata);
    expect(error).to.equal(null);
    const seen = JSON.parse(reply as string);
    expect(seen['x-set']).to.deep.equal(['from-gateway']);
    // HTTP/2 carries repeated values either as two fields or one joined field; both mean the same to gRPC.
    expect(seen['x-add'].join(',').split(/,\s*/)).to.deep.equal(['original', 'added']);
    expect(seen['x-remove']).to.deep.equal([]);
    expect(seen['x-kept']).to.deep.equal(['kept']);
  });

  it('carries the backend’s grpc-status and message back in the trailers', async () => {
    const { error } = await call('Fail', 'x');
    expect(error?.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(error?.details).to.equal('not today');
  });

  it('fails a method no route matches as UNIMPLEMENTED', async () => {
    const { error } = await call('Hidden', 'x');
    expect(error?.code).to.equal(grpc.status.UNIMPLEMENTED);
  });
});
