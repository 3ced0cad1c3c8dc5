// A real Prometheus (Debian's `prometheus` package: /usr/bin/prometheus, promtool) on loopback for a test: scrapes
// the given targets every second, evaluates the given rule files every second, keeps its TSDB in a temp folder.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePorts, waitFor } from './ports.ts';
import { OwnedProcess } from './process.ts';

export function prometheusBinary(): string {
  for (const path of ['/usr/bin/prometheus', '/usr/local/bin/prometheus'])
    try {
      execFileSync(path, ['--version'], { stdio: 'ignore' });
      return path;
    } catch {}
  throw new Error('prometheus is not installed: apt-get install -y prometheus (as .ci/run does)');
}

/** `promtool check rules` on a rules file; returns its output, throws with it on failure. */
export function promtoolCheckRules(file: string): string {
  return execFileSync('promtool', ['check', 'rules', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export class Prometheus {
  readonly url: string;
  readonly dir: string;
  readonly #process: OwnedProcess;

  private constructor(process: OwnedProcess, port: number, dir: string) {
    this.#process = process;
    this.url = `http://127.0.0.1:${port}`;
    this.dir = dir;
  }

  /** `targets`: job name → host:port list. `rules`: rule groups (Prometheus' rule-file form). */
  static async start(targets: Record<string, string[]>, rules: unknown[]): Promise<Prometheus> {
    const [port] = await freePorts(1);
    const dir = mkdtempSync(join(tmpdir(), 'portico-prometheus-'));
    writeFileSync(join(dir, 'rules.yml'), stringify({ groups: rules }));
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yml')],
        scrape_configs: Object.entries(targets).map(([job, list]) => ({
          job_name: job,
          static_configs: [{ targets: list }],
        })),
      }),
    );
    const process = new OwnedProcess(
      'prometheus',
      prometheusBinary(),
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      dir,
    );
    const prometheus = new Prometheus(process, port, dir);
    try {
      await waitFor('Prometheus to be ready', async () => {
        if (!process.running) throw new Error(`prometheus exited:\n${process.output}`);
        const res = await fetch(`${prometheus.url}/-/ready`);
        await res.arrayBuffer();
        return res.ok ? true : undefined;
      });
    } catch (error) {
      await process.stop();
      throw error;
    }
    return prometheus;
  }

  get output(): string {
    return this.#process.output;
  }

  /** An instant query through the HTTP API; throws on a query error (a bad expression). */
  async query(expr: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { resultType: string; result: unknown };
    };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error}`);
    if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
    return body.data.result as PromSample[];
  }

  async alerts(): Promise<Array<{ labels: Record<string, string>; state: string }>> {
    const res = await fetch(`${this.url}/api/v1/alerts`);
    return ((await res.json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string }> } }).data
      .alerts;
  }

  async targetsUp(): Promise<Array<{ job: string; health: string; lastError: string }>> {
    const res = await fetch(`${this.url}/api/v1/targets`);
    const body = (await res.json()) as {
      data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> };
    };
    return body.data.activeTargets.map((t) => ({ job: t.labels.job, health: t.health, lastError: t.lastError }));
  }

  stop(): Promise<void> {
    return this.#process.stop();
  }
}
