// A child process owned by a test: started with its output kept (the tail is shown when it fails), stopped by its
// own pid (SIGTERM, then SIGKILL after a grace period), its temp folder removed.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export class OwnedProcess {
  readonly name: string;
  readonly tempDir: string | undefined;
  readonly child: ChildProcess;
  #output = '';
  #exited: Promise<number | null>;

  constructor(name: string, command: string, args: string[], tempDir?: string) {
    this.name = name;
    this.tempDir = tempDir;
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-20_000);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    if (this.tempDir !== undefined) rmSync(this.tempDir, { recursive: true, force: true });
  }
}
