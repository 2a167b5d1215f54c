/*
 * Interactive queries: each container serves the tables its tasks hold over HTTP, and answers
 * for keys held elsewhere by asking the other containers (`peers`), so a query sent to any
 * container is answered.
 *
 *   GET /stores                          the queryable stores
 *   GET /stores/<name>/<key>             one key's value (windowed stores: every window of it)
 *   GET /stores/<name>?prefix=<p>        entries whose key starts with p
 *   GET /stores/<name>?from=<a>&to=<b>   entries with a <= key < b (serialized key order)
 *   GET /stores/<name>                   every entry
 *   GET /tasks                           the partitions (tasks) this container runs
 *   GET /outputs                         the version serving the job now and its output topics
 * `local=true` restricts an answer to this container (what peers are asked with, so a forwarded
 * query is never forwarded again). Keys in the path are the key as text for string keys, JSON
 * otherwise.
 *
 * With `serving` set, a container of a job that another version now serves (the alias in
 * `brook-job-aliases` names another job id, after `brook job reprocess`) sends store queries on
 * to that version's query server, so readers keep their address and get the current state.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { partitionForKey } from '../../client/index.js';
import type { MaterializedStore } from '../dsl/table.js';
import type { QueryableTask } from '../dsl/task-registry.js';
import { type StoredWindow, windowEntries } from '../dsl/window-aggregator.js';
import { stringSerde } from '../serdes/basic.js';
import type { KeyValueStore } from '../stores/key-value-store.js';
import type { JobAlias } from './aliases.js';

/** One entry of an answer. */
export interface QueryEntry {
  readonly key: unknown;
  readonly value: unknown;
  /** Windowed stores only. */
  readonly start?: number;
  readonly end?: number;
}

/** What a query server serves. */
export interface QueryServerOptions {
  readonly stores: ReadonlyMap<string, MaterializedStore<unknown, unknown>>;
  /** The tasks running in this container (read at every query: tasks move). */
  readonly tasks: () => readonly QueryableTask[];
  /** `host:port` of the other containers' query servers. */
  readonly peers?: readonly string[];
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Which version of the job serves now; without it every query is answered here. */
  readonly serving?: ServingOptions;
}

/** What a query server needs to follow a job's serving alias. */
export interface ServingOptions {
  /** The alias the job serves under (the live job's id). */
  readonly alias: string;
  /** This container's job id. */
  readonly jobId: string;
  /** This version, if it is one (`v2`). */
  readonly version?: string;
  /** Each output topic as the job names it → the topic this container writes. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The alias's latest record, if any (may be cached briefly by the caller). */
  readonly current: () => Promise<JobAlias | undefined>;
}

/** Serves a container's stores. */
export class QueryServer {
  readonly #o: QueryServerOptions;
  readonly #server: Server;
  #address = '';

  constructor(options: QueryServerOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        send(res, 500, { error: (error as Error).message });
      });
    });
  }

  /** Starts listening; resolves with `host:port`. */
  async start(): Promise<string> {
    const host = this.#o.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port ?? 0, host, () => resolve());
    });
    this.#address = `${host}:${(this.#server.address() as AddressInfo).port}`;
    return this.#address;
  }

  /** Lets the process exit while the server is open (it serves as long as the container runs). */
  unref(): void {
    this.#server.unref();
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'tasks') {
      send(res, 200, { partitions: this.#o.tasks().map((t) => t.partition) });
      return;
    }
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'outputs') {
      send(res, 200, await this.#outputs());
      return;
    }
    if (req.method !== 'GET' || parts[0] !== 'stores' || parts.length > 3) {
      send(res, 404, {
        error: 'not found: GET /stores, /stores/<name>, /stores/<name>/<key>, /outputs',
      });
      return;
    }
    if (url.searchParams.get('local') !== 'true' && (await this.#sendToCurrent(url, res))) return;
    if (parts.length === 1) {
      send(res, 200, {
        stores: [...this.#o.stores.values()].map((s) => ({ name: s.name, windowed: s.windowed })),
      });
      return;
    }
    const store = this.#o.stores.get(parts[1]!);
    if (store === undefined) {
      send(res, 404, { error: `no queryable store ${parts[1]}` });
      return;
    }
    const local = url.searchParams.get('local') === 'true';
    if (parts.length === 3) {
      let key: unknown;
      try {
        key = parseKey(store, parts[2]!);
      } catch {
        send(res, 400, { error: `key ${parts[2]} is not JSON (the store's keys are not strings)` });
        return;
      }
      const entries = this.#lookup(store, key);
      if (entries.length > 0 || local) {
        send(res, entries.length > 0 ? 200 : 404, {
          store: store.name,
          entries,
          servedBy: this.#address,
        });
        return;
      }
      // The owner first (Kafka's default partitioner over the task count), then the others,
      // for stores whose keys were partitioned otherwise.
      const owner = await this.#ownerOf(store.keySerde.serialize(key));
      const peers = this.#peers();
      const order = owner === undefined ? peers : [owner, ...peers.filter((p) => p !== owner)];
      for (const peer of order) {
        const answer = await ask(peer, `${url.pathname}?local=true`);
        if (answer.status === 200) {
          send(res, 200, { ...(answer.body as object), forwardedBy: this.#address });
          return;
        }
      }
      send(res, 404, { store: store.name, entries: [], servedBy: this.#address });
      return;
    }
    const entries = this.#scan(store, url.searchParams);
    if (!local) {
      for (const peer of this.#peers()) {
        const q = new URLSearchParams(url.searchParams);
        q.set('local', 'true');
        const answer = await ask(peer, `${url.pathname}?${q}`);
        if (answer.status === 200)
          entries.push(...(answer.body as { entries: QueryEntry[] }).entries);
      }
    }
    send(res, 200, { store: store.name, entries, servedBy: this.#address });
  }

  /** The serving version's job id and outputs (this one's when no alias names another). */
  async #outputs(): Promise<Record<string, unknown>> {
    const serving = this.#o.serving;
    if (serving === undefined) return { servedBy: this.#address };
    const current = await serving.current();
    if (current !== undefined && current.jobId !== serving.jobId) {
      return {
        alias: serving.alias,
        jobId: current.jobId,
        version: current.version,
        switchedAt: current.switchedAt,
        outputs: current.outputs ?? {},
        query: current.query ?? [],
        servedBy: this.#address,
        self: serving.jobId,
      };
    }
    return {
      alias: serving.alias,
      jobId: serving.jobId,
      version: serving.version ?? current?.version ?? null,
      outputs: serving.outputs,
      query: [this.#address, ...this.#peers()],
      servedBy: this.#address,
      self: serving.jobId,
    };
  }

  /**
   * When another version serves the job now, answers the query from it; false when this
   * container's version is the current one.
   */
  async #sendToCurrent(url: URL, res: ServerResponse): Promise<boolean> {
    const serving = this.#o.serving;
    if (serving === undefined) return false;
    const current = await serving.current();
    if (current === undefined || current.jobId === serving.jobId) return false;
    for (const address of current.query ?? []) {
      const answer = await ask(address, `${url.pathname}${url.search}`);
      if (answer.status === 503) continue;
      send(res, answer.status, {
        ...(answer.body as object),
        version: current.version,
        forwardedBy: this.#address,
      });
      return true;
    }
    send(res, 503, {
      error: `${serving.alias} is served by ${current.jobId} now, and none of its query servers answers (${(current.query ?? []).join(', ') || 'none recorded'})`,
    });
    return true;
  }

  /** The other containers (a peer list shared by all containers may name this one too). */
  #peers(): string[] {
    return (this.#o.peers ?? []).filter((p) => p !== this.#address);
  }

  /**
   * The peer whose tasks include the partition of `keyBytes`, when every task of the job is
   * known to run somewhere (so the task count, and with it the partition, is certain).
   */
  async #ownerOf(keyBytes: Buffer): Promise<string | undefined> {
    const owners = new Map<number, string>();
    for (const t of this.#o.tasks()) owners.set(t.partition, this.#address);
    const answers = await Promise.all(
      this.#peers().map(async (peer) => ({ peer, answer: await ask(peer, '/tasks') })),
    );
    for (const { peer, answer } of answers) {
      if (answer.status !== 200) continue;
      for (const p of (answer.body as { partitions: number[] }).partitions) owners.set(p, peer);
    }
    const count = Math.max(-1, ...owners.keys()) + 1;
    if (count === 0 || owners.size !== count) return undefined;
    const owner = owners.get(partitionForKey(keyBytes, count));
    return owner === this.#address ? undefined : owner;
  }

  /** Entries of `key` in the local tasks. */
  #lookup(store: MaterializedStore<unknown, unknown>, key: unknown): QueryEntry[] {
    const keyBytes = store.keySerde.serialize(key);
    const out: QueryEntry[] = [];
    for (const task of this.#o.tasks()) {
      const s = task.store(store.name);
      if (store.windowed) {
        for (const e of windowEntries(s, keyBytes)) out.push(windowEntry(store, e));
      } else {
        const v = s.get(keyBytes);
        if (v !== undefined) out.push({ key, value: store.valueSerde.deserialize(v) });
      }
    }
    return out;
  }

  #scan(store: MaterializedStore<unknown, unknown>, q: URLSearchParams): QueryEntry[] {
    const out: QueryEntry[] = [];
    const prefix = q.get('prefix');
    const from = q.get('from');
    const to = q.get('to');
    for (const task of this.#o.tasks()) {
      const s: KeyValueStore<Buffer, Buffer> = task.store(store.name);
      if (store.windowed) {
        // Windowed stores scan the data family; prefix/from/to apply to the key's text.
        for (const e of windowEntries(s)) {
          const entry = windowEntry(store, e);
          const text = String(entry.key);
          if (prefix !== null && !text.startsWith(prefix)) continue;
          if (from !== null && text < from) continue;
          if (to !== null && text >= to) continue;
          out.push(entry);
        }
        continue;
      }
      const entries =
        prefix !== null
          ? s.prefix(store.keySerde.serialize(parseKey(store, prefix)))
          : from !== null && to !== null
            ? s.range(
                store.keySerde.serialize(parseKey(store, from)),
                store.keySerde.serialize(parseKey(store, to)),
              )
            : s.all();
      for (const e of entries) {
        out.push({
          key: store.keySerde.deserialize(e.key),
          value: store.valueSerde.deserialize(e.value),
        });
      }
    }
    return out;
  }
}

function parseKey(store: MaterializedStore<unknown, unknown>, text: string): unknown {
  return store.keySerde === stringSerde ? text : JSON.parse(text);
}

function windowEntry(store: MaterializedStore<unknown, unknown>, e: StoredWindow): QueryEntry {
  return {
    key: store.keySerde.deserialize(e.keyBytes),
    start: e.start,
    end: e.end,
    value: store.valueSerde.deserialize(e.value),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(text);
}

async function ask(peer: string, path: string): Promise<{ status: number; body: unknown }> {
  try {
    const response = await fetch(`http://${peer}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.json() };
  } catch {
    return { status: 503, body: undefined }; // a peer that is down answers nothing
  }
}
