// A real HTTP/1.1 client for tests (undici), with helpers that read the echo server's JSON answers.

import { Agent, request } from 'undici';
import type { EchoReply } from './echo-server.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  echo: EchoReply | null;
}

// No keep-alive reuse across tests' generations would hide nothing; but one agent per process keeps sockets few.
const agent = new Agent({ keepAliveTimeout: 1000, connections: 64 });
// HTTP/2 with prior knowledge on plain listeners: what the Fastify front end serves (the engine serves HTTP/1.1).
const h2cAgent = new Agent({ keepAliveTimeout: 1000, allowH2: true, useH2c: true } as Agent.Options);

/** The protocols a data-plane suite runs over: the HTTP/1.1 engine, and HTTP/2 (h2c) on the Fastify front end. */
export const CLIENT_PROTOCOLS = ['HTTP/1.1', 'HTTP/2'] as const;
export type ClientProtocol = (typeof CLIENT_PROTOCOLS)[number];

type GetOptions = { method?: string; headers?: Record<string, string>; body?: string };

/** `get` over the given protocol. */
export function getWith(protocol: ClientProtocol): (url: string, options?: GetOptions) => Promise<Reply> {
  const dispatcher = protocol === 'HTTP/2' ? h2cAgent : agent;
  return (url, options) => send(url, options ?? {}, dispatcher);
}

export function get(url: string, options: GetOptions = {}): Promise<Reply> {
  return send(url, options, agent);
}

async function send(url: string, options: GetOptions, dispatcher: Agent): Promise<Reply> {
  const res = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
    dispatcher,
  });
  const text = await res.body.text();
  let echo: EchoReply | null = null;
  if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
    try {
      echo = JSON.parse(text) as EchoReply;
    } catch {
      echo = null;
    }
  }
  return { status: res.statusCode, headers: res.headers as Reply['headers'], text, echo };
}

export async function closeClient(): Promise<void> {
  await agent.close();
  await h2cAgent.close();
}
