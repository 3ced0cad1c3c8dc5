// Standalone mode's source of objects: a folder of YAML (or JSON) files, each holding any number of documents,
// watched for changes. A file that stops parsing keeps its last good objects in force and is reported (an editor
// saving half a file must not take routes down); a file that is deleted takes its objects with it.
// Objects from files have no API server to stamp them, so this provider does: a namespace (`default`), a
// creationTimestamp at first sight (precedence: objects seen earlier win conflicts), and a generation that grows
// when the object's spec changes (so observedGeneration in statuses means something).
// A file read again costs what changed in it: its documents are parsed one by one and remembered by their text, and
// an unchanged document gives the very object it gave before, which the store then sees as no change.

import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../gateway/resources.ts';
import { CLUSTER_SCOPED_KINDS, objectKey } from '../gateway/keys.ts';
import type { ResourceStore } from '../store/resource-store.ts';

type ParseResult = { objects: KubeObject[] } | { error: string };

const SETTLE_MS = 10;
const MAX_WAIT_MS = 100;
const EXTENSIONS = /\.(ya?ml|json)$/i;

export interface FileError {
  file: string;
  message: string;
}

interface Stamp {
  createdAt: string;
  generation: number;
  spec: string;
}

interface FileState {
  keys: Set<string>;
  error: string | null;
  /** The values of the file's documents as last parsed, by document text. */
  documents: Map<string, unknown[]>;
}

/** An object as stamped, and the spec (JSON) it was stamped with: reused while its stamp stays the same. */
interface Stamped {
  object: KubeObject;
  spec: string;
}

/**
 * The documents of a multi-document YAML text, cut at its `---` lines (a document marker is never content, so a cut
 * there parses as the whole would). Null when the text has what makes a cut unsafe: directives (`%`, which apply to
 * the next document) or document end markers (`...`).
 */
function splitDocuments(text: string): string[] | null {
  if (/^(%|\.\.\.)/m.test(text)) return null;
  const documents: string[] = [];
  let start = 0;
  for (const marker of text.matchAll(/^---(?=[ \t\r]|$)/gm)) {
    if (marker.index > start) documents.push(text.slice(start, marker.index));
    start = marker.index;
  }
  documents.push(text.slice(start));
  return documents;
}

export class FileProvider {
  readonly #dir: string;
  readonly #store: ResourceStore;
  readonly #log: Logger;
  readonly #files = new Map<string, FileState>();
  readonly #stamps = new Map<string, Stamp>();
  /** Stamped objects by parsed value, to give an unchanged document's object again. */
  readonly #stamped = new WeakMap<object, Stamped>();
  #watcher: FSWatcher | null = null;
  #pending = new Set<string>();
  #burstStart = 0;
  #timer: NodeJS.Timeout | null = null;
  #clock: () => Date;
  #flushing = false;

  constructor(dir: string, store: ResourceStore, log: Logger, clock: () => Date = () => new Date()) {
    this.#dir = dir;
    this.#store = store;
    this.#log = log;
    this.#clock = clock;
  }

  /** Files that could not be read or parsed, with why (their last good objects stay in force). */
  errors(): FileError[] {
    const out: FileError[] = [];
    for (const [file, state] of this.#files) if (state.error !== null) out.push({ file, message: state.error });
    return out.sort((a, b) => (a.file < b.file ? -1 : 1));
  }

  /** Loads every file, then watches the folder. */
  async start(): Promise<void> {
    for (const file of await this.#list(this.#dir)) await this.#load(file);
    this.#watcher = watch(this.#dir, { recursive: true }, (_event, name) => {
      if (name === null || !EXTENSIONS.test(String(name))) return;
      this.#pending.add(join(this.#dir, String(name)));
      // Editors write in bursts (truncate, write, rename) a few milliseconds apart: read once the folder has been
      // quiet for SETTLE_MS, but never later than MAX_WAIT_MS after the first event of a burst.
      const now = performance.now();
      if (this.#timer === null) this.#burstStart = now;
      else clearTimeout(this.#timer);
      const wait = Math.min(SETTLE_MS, Math.max(0, this.#burstStart + MAX_WAIT_MS - now));
      this.#timer = setTimeout(() => {
        this.#flush().catch((error: Error) => this.#log.error({ err: error }, 'reading changed files failed'));
      }, wait);
    });
  }

  /** True while changed files wait to be read or are being read (tests wait for the folder to be read). */
  get busy(): boolean {
    return this.#timer !== null || this.#flushing;
  }

  stop(): void {
    this.#watcher?.close();
    if (this.#timer !== null) clearTimeout(this.#timer);
  }

  async #flush(): Promise<void> {
    this.#timer = null;
    const files = [...this.#pending];
    this.#pending.clear();
    this.#flushing = true;
    try {
      for (const file of files) await this.#load(file);
    } finally {
      this.#flushing = false;
    }
  }

  async #list(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && !entry.name.startsWith('.')) out.push(...(await this.#list(path)));
      else if (entry.isFile() && EXTENSIONS.test(entry.name)) out.push(path);
    }
    return out.sort();
  }

  async #load(path: string): Promise<void> {
    const file = relative(this.#dir, path);
    const previous = this.#files.get(file);
    let text: string;
    try {
      if (!(await stat(path)).isFile()) return;
      text = await readFile(path, 'utf8');
    } catch {
      // Deleted (or renamed away): its objects go.
      if (previous !== undefined) {
        this.#files.delete(file);
        this.#store.replace(previous.keys, []);
        this.#log.info({ file }, 'file removed; its objects are gone');
      }
      return;
    }
    const documents = new Map<string, unknown[]>();
    let parsed: ParseResult;
    try {
      parsed = this.#parse(text, previous?.documents ?? new Map(), documents);
    } catch (error) {
      // The parser can throw past its error list (e.g. an alias bomb beyond maxAliasCount): a file error like any.
      parsed = { error: (error as Error).message };
    }
    if ('error' in parsed) {
      this.#files.set(file, {
        keys: previous?.keys ?? new Set(),
        error: parsed.error,
        documents: previous?.documents ?? new Map(),
      });
      this.#log.warn({ file, error: parsed.error }, 'file does not parse; its previous objects stay in force');
      return;
    }
    const objects = parsed.objects.map((o) => this.#stamp(o));
    const keys = this.#store.replace(previous?.keys ?? [], objects);
    this.#files.set(file, { keys, error: null, documents });
    this.#log.debug({ file, objects: objects.length }, 'file loaded');
  }

  /**
   * The objects of a file's text. Documents whose text is in `known` (the file's documents last time) are not parsed
   * again; `documents` receives this text's documents. Any error, and a text that cannot be cut safely, parse the
   * whole text at once, so that error messages (with their line numbers) are those of the file.
   */
  #parse(text: string, known: ReadonlyMap<string, unknown[]>, documents: Map<string, unknown[]>): ParseResult {
    const split = splitDocuments(text);
    let values: unknown[] | null = split === null ? null : [];
    for (const document of split ?? []) {
      let parsed = known.get(document) ?? documents.get(document);
      if (parsed === undefined) {
        const docs = parseAllDocuments(document, { prettyErrors: true });
        if (docs.some((doc) => doc.errors.length > 0)) {
          values = null;
          break;
        }
        parsed = docs.map((doc) => doc.toJS({ maxAliasCount: 100 }) as unknown);
      }
      documents.set(document, parsed);
      values!.push(...parsed);
    }
    if (values === null) {
      documents.clear();
      values = [];
      for (const doc of parseAllDocuments(text, { prettyErrors: true })) {
        if (doc.errors.length > 0) return { error: doc.errors[0].message };
        values.push(doc.toJS({ maxAliasCount: 100 }) as unknown);
      }
    }
    return this.#objectsOf(values);
  }

  #objectsOf(values: readonly unknown[]): ParseResult {
    const objects: KubeObject[] = [];
    for (const value of values) {
      if (value === null || value === undefined) continue;
      if (typeof value !== 'object' || Array.isArray(value))
        return { error: 'a document is not a Kubernetes object (a mapping with kind and metadata)' };
      const object = value as KubeObject;
      if (object.kind === 'List' && Array.isArray((object as { items?: unknown }).items))
        objects.push(...(object as { items: KubeObject[] }).items);
      else objects.push(object);
    }
    for (const object of objects) {
      if (typeof object?.kind !== 'string' || typeof object?.metadata?.name !== 'string') {
        return {
          error: `every object needs kind and metadata.name (found kind ${JSON.stringify(object?.kind)}, name ${JSON.stringify(object?.metadata?.name)})`,
        };
      }
    }
    return { objects };
  }

  #stamp(object: KubeObject): KubeObject {
    const metadata = { ...object.metadata };
    if (!CLUSTER_SCOPED_KINDS.has(object.kind ?? '') && !metadata.namespace) metadata.namespace = 'default';
    const key = objectKey({ ...object, metadata });
    // Parsed documents are never changed: one stamped before has the spec it had then.
    const before = this.#stamped.get(object);
    const spec = before?.spec ?? JSON.stringify(object.spec ?? null);
    let stamp = this.#stamps.get(key);
    if (stamp === undefined) {
      stamp = {
        createdAt:
          metadata.creationTimestamp ??
          this.#clock()
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z'),
        generation: 1,
        spec,
      };
      this.#stamps.set(key, stamp);
    } else if (stamp.spec !== spec) {
      stamp.generation++;
      stamp.spec = spec;
    }
    // The same parsed document, stamped the same: the same object as before (the store sees no change).
    if (
      before !== undefined &&
      before.object.metadata?.generation === stamp.generation &&
      before.object.metadata?.creationTimestamp === (metadata.creationTimestamp ?? stamp.createdAt)
    ) {
      return before.object;
    }
    metadata.creationTimestamp ??= stamp.createdAt;
    metadata.generation = stamp.generation;
    const stamped = { ...object, metadata };
    this.#stamped.set(object, { object: stamped, spec });
    return stamped;
  }
}
