import { parentPort } from "node:worker_threads";
import { FileAnalyzer, type FileRef } from "../file-ref.js";

const analyzer = new FileAnalyzer();

/** Reads and analyzes a batch of files for the pool; results posted back by id, in order. */
parentPort?.on("message", (message: { id: number; refs: FileRef[] }) => {
  parentPort!.postMessage({ id: message.id, analyses: message.refs.map((ref) => analyzer.analyze(ref)) });
});
