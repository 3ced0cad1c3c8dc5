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

export async function get(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const res = await request(url, {
    method: (options.method ?? 'GET') as 'GET',
    headers: options.headers,
    body: options.body,
    dispatcher: agent,
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
}
