/*
 * The operator graph the high-level API builds. Each node is a small description (kind, name,
 * the topics and stores it uses, its children) plus a factory for its per-task processor; the
 * compiled StreamTask creates one processor per node in every task and pushes records from the
 * source nodes through the children, synchronously and in order.
 */
import type { ProducerHeader } from '../../client/index.js';
import type { Serde } from '../serdes/serde.js';
import type { KeyValueStore } from '../stores/key-value-store.js';

/** A record flowing between operators. */
export interface Rec {
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp: number;
}

/** Passes a record to a node's children. */
export type Emit = (rec: Rec) => void;

/** What an operator sees of its task while processing. */
export interface TaskRuntime {
  readonly jobId: string;
  readonly partition: number;
  /** A bytes store the graph declared. */
  store(name: string): KeyValueStore<Buffer, Buffer>;
  /** Sends to a declared output. */
  send(
    output: string,
    key: unknown,
    value: unknown,
    timestamp: number,
    headers?: ProducerHeader[],
  ): void;
  /** The task's event-time watermark. */
  readonly watermark: number;
  /** The input message being processed (undefined in `window()`). */
  readonly envelope:
    | {
        readonly topic: string;
        readonly partition: number;
        readonly offset: number;
        readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
      }
    | undefined;
}

/** An operator's per-task instance. */
export interface Processor {
  process(rec: Rec): void;
  /** Called when the watermark moved forward (windows close, buffers expire). */
  advance?(watermark: number): void;
}

/** A store a node declares (always bytes-level: operators serialize themselves). */
export interface StoreDecl {
  readonly name: string;
  /** What it holds, for `describe`. */
  readonly role: string;
  /** Stores the engine keeps in memory only (still changelogged). */
  readonly inMemory?: boolean;
  /**
   * A table kept from this input topic, which is its changelog: the runtime applies the
   * topic's records to it (see `StoreSpec.sourceTopic`); the operator only reads it.
   */
  readonly sourceTopic?: string;
}

/** An input topic a source node reads. */
export interface InputDecl {
  readonly name: string;
  readonly topic: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  /** Copartitioned with every other input (the runtime's tasks are partition numbers). */
  readonly role: string;
}

/** An output topic a node writes. */
export interface OutputDecl {
  readonly name: string;
  readonly topic: string;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly partitions?: 'tasks';
}

/** One operator. */
export interface OpNode {
  readonly name: string;
  readonly kind: string;
  readonly children: OpNode[];
  /** Children receiving late records (windowed aggregations). */
  readonly lateChildren: OpNode[];
  readonly input?: InputDecl;
  readonly outputs: readonly OutputDecl[];
  readonly stores: readonly StoreDecl[];
  create(rt: TaskRuntime, emit: Emit, emitLate: Emit): Processor;
}

/** A node from its parts (children start empty). */
export function node(
  parts: Omit<OpNode, 'children' | 'lateChildren' | 'outputs' | 'stores'> &
    Partial<Pick<OpNode, 'outputs' | 'stores'>>,
): OpNode {
  return { outputs: [], stores: [], ...parts, children: [], lateChildren: [] };
}
