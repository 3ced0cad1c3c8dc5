// A real Jaeger v2 (all-in-one: OTLP receiver, in-memory storage, query API) on loopback for a test. The binary is
// built once from the Go module pinned in ../jaeger/go.mod (build.sh caches it in ~/.cache/portico/jaeger with a
// stamp); the config below opens only what the test uses, on free ports, and turns off Jaeger's own metrics port.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, waitFor } from './ports.ts';
import { OwnedProcess } from './process.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** Builds (or finds cached) Jaeger; returns the binary's path. A cold build takes minutes: see the README. */
export function buildJaeger(): string {
  const out = execFileSync('bash', [join(here, '..', 'jaeger', 'build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').at(-1) ?? '';
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: Array<{ refType: string; traceID: string; spanID: string }>;
  tags: Array<{ key: string; type: string; value: unknown }>;
  processID: string;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
}

export class Jaeger {
  readonly otlpEndpoint: string;
  readonly queryUrl: string;
  readonly #process: OwnedProcess;

  /** The OTLP receiver's address and port (for an EndpointSlice that points at it). */
  readonly otlpHost: string;
  readonly otlpPort: number;

  private constructor(process: OwnedProcess, otlpHost: string, otlpPort: number, queryPort: number) {
    this.#process = process;
    this.otlpHost = otlpHost;
    this.otlpPort = otlpPort;
    this.otlpEndpoint = `http://${otlpHost}:${otlpPort}`;
    this.queryUrl = `http://127.0.0.1:${queryPort}`;
  }

  /**
   * `otlpHost`: where the OTLP receiver listens (default loopback); a Kubernetes-mode test gives a non-loopback
   * address, since the API server refuses loopback addresses in the EndpointSlice that points a policy at it.
   */
  static async start(binary: string, otlpHost = '127.0.0.1'): Promise<Jaeger> {
    const [otlp, query, queryGrpc, health] = await freePorts(4);
    const dir = mkdtempSync(join(tmpdir(), 'portico-jaeger-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:${health}
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: 127.0.0.1:${query}
    grpc:
      endpoint: 127.0.0.1:${queryGrpc}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${otlpHost}:${otlp}
processors:
  batch:
    timeout: 50ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`,
    );
    const process = new OwnedProcess('jaeger', binary, ['--config', config], dir);
    const jaeger = new Jaeger(process, otlpHost, otlp, query);
    try {
      await waitFor(
        'Jaeger to be healthy',
        async () => {
          if (!process.running) throw new Error(`jaeger exited:\n${process.output}`);
          const res = await fetch(`http://127.0.0.1:${health}/status`);
          await res.arrayBuffer();
          const services = await fetch(`${jaeger.queryUrl}/api/services`);
          await services.arrayBuffer();
          return res.ok && services.ok ? true : undefined;
        },
        30_000,
      );
    } catch (error) {
      await process.stop();
      throw new Error(`${(error as Error).message}\n--- jaeger output ---\n${process.output}`);
    }
    return jaeger;
  }

  get output(): string {
    return this.#process.output;
  }

  /** The trace as Jaeger's query API (GET /api/traces/{id}) returns it, or undefined while it is not there. */
  async trace(traceId: string): Promise<JaegerTrace | undefined> {
    const res = await fetch(`${this.queryUrl}/api/traces/${traceId}`);
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    if (!res.ok) throw new Error(`Jaeger query: HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { data: JaegerTrace[] };
    return body.data[0];
  }

  /** Waits until the trace has at least `spans` spans (Jaeger batches what it receives). */
  waitForTrace(traceId: string, spans: number, timeoutMs = 15_000): Promise<JaegerTrace> {
    return waitFor(
      `trace ${traceId} with ${spans} spans in Jaeger`,
      async () => {
        const trace = await this.trace(traceId);
        return trace !== undefined && trace.spans.length >= spans ? trace : undefined;
      },
      timeoutMs,
    );
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}

/** Tags of a Jaeger span as a plain object. */
export function tagsOf(span: JaegerSpan): Record<string, unknown> {
  return Object.fromEntries(span.tags.map((t) => [t.key, t.value]));
}
