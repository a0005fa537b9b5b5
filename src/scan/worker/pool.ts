import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { FileAnalysis } from "../analyze-file.js";
import { FileAnalyzer, unreadable, type FileRef } from "../file-ref.js";
import { SCAN_LIMITS } from "../limits.js";

interface Task {
  id: number;
  refs: FileRef[];
  resolve: (analyses: FileAnalysis[]) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  timer: NodeJS.Timeout | undefined;
  completed: number;
}

const WORKER_URL = new URL("./file-worker.js", import.meta.url);

/**
 * Worker threads that read and analyze files in parallel, a batch at a
 * time (one message per batch, not per file). A batch that runs past its
 * time limit, or kills its worker (memory, a parser bug), costs only that
 * worker: it is terminated and replaced, and the batch is retried one file
 * at a time, so the one file to blame is reported as a finding and the
 * others are analyzed. Close it (or `await using`) to stop the threads.
 */
export class FileAnalyzerPool implements AsyncDisposable {
  readonly size: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Task[] = [];
  readonly #timeoutMs: number;
  /** For when workers cannot run (closed, or they fail to start). */
  readonly #inThread = new FileAnalyzer();
  #nextId = 0;
  #closed = false;
  #workersBroken = false;

  constructor(options: { size?: number; fileTimeoutMs?: number } = {}) {
    this.size = Math.max(1, options.size ?? Math.min(availableParallelism(), 4));
    this.#timeoutMs = options.fileTimeoutMs ?? SCAN_LIMITS.fileTimeoutMs;
  }

  /**
   * Starts the threads now, so that loading the analyzer overlaps with the
   * caller's own work (listing a tree) instead of delaying the first batch.
   */
  warmUp(): void {
    if (this.#closed || this.#workersBroken) return;
    while (this.#spawn()) { /* until the pool is full */ }
  }

  /** Analyses in the order of `refs`. */
  analyze(refs: FileRef[]): Promise<FileAnalysis[]> {
    if (refs.length === 0) return Promise.resolve([]);
    if (this.#closed || this.#workersBroken) return Promise.resolve(refs.map((ref) => this.#inThread.analyze(ref)));
    return new Promise((resolve) => {
      this.#queue.push({ id: this.#nextId++, refs, resolve });
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    for (const slot of slots) clearTimeout(slot.timer);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    for (const task of this.#queue.splice(0)) task.resolve(task.refs.map((ref) => this.#inThread.analyze(ref)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((candidate) => candidate.task === undefined) ?? this.#spawn();
      if (!slot) return;
      const task = this.#queue.shift()!;
      slot.task = task;
      const limit = this.#timeoutMs * (task.refs.length === 1 ? 1 : 2);
      slot.timer = setTimeout(() => this.#fail(slot, `took longer than ${this.#timeoutMs / 1000} s to analyze (worker stopped)`), limit);
      slot.worker.postMessage({ id: task.id, refs: task.refs });
    }
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.size) return undefined;
    // execArgv: [] so flags meant for the parent (--input-type, -e, --test) do not break the worker.
    const worker = new Worker(WORKER_URL, { execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 2048 } });
    worker.unref();
    const slot: Slot = { worker, task: undefined, timer: undefined, completed: 0 };
    worker.on("message", (message: { id: number; analyses: FileAnalysis[] }) => {
      if (slot.task?.id === message.id) this.#finish(slot, message.analyses);
    });
    worker.on("error", (error) => {
      // A worker that dies before finishing anything could not start at all:
      // analyze in this thread from now on instead of failing every file.
      if (slot.completed === 0 && slot.task) this.#workersBroken = true;
      this.#fail(slot, `crashed the analyzer (${error.message.slice(0, 120)})`);
    });
    this.#slots.push(slot);
    return slot;
  }

  #finish(slot: Slot, analyses: FileAnalysis[]): void {
    clearTimeout(slot.timer);
    const task = slot.task!;
    slot.task = undefined;
    slot.completed++;
    task.resolve(analyses);
    this.#dispatch();
  }

  /** The worker is replaced. A batch is retried file by file; a single file gets a finding instead of a result. */
  #fail(slot: Slot, why: string): void {
    clearTimeout(slot.timer);
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    const task = slot.task;
    this.#slots.splice(index, 1);
    void slot.worker.terminate();
    if (task && this.#workersBroken) task.resolve(task.refs.map((ref) => this.#inThread.analyze(ref)));
    else if (task && task.refs.length === 1) task.resolve([unreadable(task.refs[0]!, 0, `this file ${why}`)]);
    else if (task) void Promise.all(task.refs.map((ref) => this.analyze([ref]))).then((parts) => task.resolve(parts.flat()));
    if (this.#workersBroken) for (const queued of this.#queue.splice(0)) queued.resolve(queued.refs.map((ref) => this.#inThread.analyze(ref)));
    else if (!this.#closed) this.#dispatch();
  }
}
