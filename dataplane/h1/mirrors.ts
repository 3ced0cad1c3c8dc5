// RequestMirror on the engine: the mirrors are chosen and their requests sent (through undici, off the hot path)
// before the upstream head is built; a request body is copied to them chunk by chunk as it streams to the main
// backend, at the main backend's pace. A mirror more than MIRROR_BUFFER_LIMIT behind is dropped, never waited for.

import { PassThrough } from 'node:stream';
import type { Routed } from '../core/route.ts';
import { MIRROR_BUFFER_LIMIT, chooseMirrors, sendMirrors } from '../http/mirror.ts';
import type { H1Request, RequestSink } from './connection.ts';
import type { Engine } from './engine.ts';

export class MirrorTee implements RequestSink {
  readonly copies: PassThrough[];
  inner: RequestSink | null = null;

  constructor(copies: PassThrough[]) {
    this.copies = copies;
  }

  wrap(inner: RequestSink): this {
    this.inner = inner;
    return this;
  }

  onRequestBody(chunk: Buffer): void {
    this.inner?.onRequestBody(chunk);
    for (const copy of this.copies) {
      if (copy.destroyed) continue;
      if (copy.writableLength > MIRROR_BUFFER_LIMIT) copy.destroy(new Error('mirror fell behind'));
      else copy.write(chunk);
    }
  }

  onRequestEnd(): void {
    this.inner?.onRequestEnd();
    for (const copy of this.copies) if (!copy.destroyed) copy.end();
  }

  onClientDrain(): void {
    this.inner?.onClientDrain();
  }

  onClientClose(): void {
    this.inner?.onClientClose();
    for (const copy of this.copies) copy.destroy();
  }
}

/** Sends the request's mirrors; returns the tee their bodies need, or null (no mirror, or no body). */
export function sendMirrorsOf(engine: Engine, request: H1Request, routed: Routed): MirrorTee | null {
  const rule = routed.rule as NonNullable<Routed['rule']>;
  const ref = routed.ref as NonNullable<Routed['ref']>;
  if (rule.mirrors.length === 0 && ref.mirrors.length === 0) return null;
  const mirrors = chooseMirrors(rule.mirrors, ref.mirrors);
  if (mirrors.length === 0) return null;
  const tee = request.hasBody ? new MirrorTee(mirrors.map(() => new PassThrough())) : null;
  sendMirrors(
    mirrors,
    tee === null ? null : tee.copies,
    engine.registry,
    routed.listener?.listener.backendClientCertificateKey,
    {
      method: request.method,
      path: routed.upstreamTarget,
      query: '',
      headers: request.headers,
      upstreamHost: routed.upstreamHost,
    },
    engine.metrics,
    request.obs?.server != null && request.obs.tracing !== null
      ? { tracing: request.obs.tracing, server: request.obs.server }
      : null,
  );
  return tee;
}
