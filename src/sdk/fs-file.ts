import type { FileInfo, SandboxFs } from "./fs.js";
import { fsErrorFrom } from "./fs-errors.js";

export interface OpenOptions { read?: boolean; write?: boolean; append?: boolean; truncate?: boolean; create?: boolean; createNew?: boolean; mode?: number }

export enum SeekMode { Start = 0, Current = 1, End = 2 }

/**
 * A file opened in the sandbox. There is no descriptor held across calls:
 * the handle keeps a path and a position, and each read or write is one
 * `dd` inside the sandbox at that offset. Another process renaming the file
 * in between is therefore seen (unlike a real descriptor); lock() is not
 * supported.
 */
export class FsFile implements AsyncDisposable {
  readonly #fs: SandboxFs;
  readonly #path: string;
  readonly #options: OpenOptions;
  #position = 0;
  #closed = false;

  /** @internal */
  constructor(fs: SandboxFs, path: string, options: OpenOptions) {
    this.#fs = fs;
    this.#path = path;
    this.#options = options;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    this.#assertOpen();
    const result = await this.#fs.tool("dd", [`if=${this.#path}`, "iflag=skip_bytes,count_bytes", `skip=${this.#position}`, `count=${buffer.length}`, "bs=65536", "status=none"]);
    if (result.code !== 0) throw fsErrorFrom("read", this.#path, result.stderr);
    if (result.stdout.length === 0 && buffer.length > 0) return null;
    buffer.set(result.stdout.subarray(0, buffer.length));
    this.#position += result.stdout.length;
    return result.stdout.length;
  }

  async write(data: Uint8Array): Promise<number> {
    this.#assertOpen();
    if (this.#options.write === false && !this.#options.append) throw fsErrorFrom("write", this.#path, "Permission denied");
    const position = this.#options.append ? (await this.stat()).size : this.#position;
    const result = await this.#fs.tool("dd", [`of=${this.#path}`, "oflag=seek_bytes", "conv=notrunc", `seek=${position}`, "bs=65536", "status=none"], data);
    if (result.code !== 0) throw fsErrorFrom("write", this.#path, result.stderr);
    this.#position = position + data.length;
    return data.length;
  }

  async seek(offset: number | bigint, whence: SeekMode): Promise<number> {
    this.#assertOpen();
    const delta = Number(offset);
    const base = whence === SeekMode.Start ? 0 : whence === SeekMode.Current ? this.#position : (await this.stat()).size;
    if (base + delta < 0) throw fsErrorFrom("seek", this.#path, "Invalid argument");
    this.#position = base + delta;
    return this.#position;
  }

  async truncate(length = 0): Promise<void> {
    await this.#fs.truncate(this.#path, length);
  }

  async stat(): Promise<FileInfo> {
    return this.#fs.stat(this.#path);
  }

  async sync(): Promise<void> {}
  async syncData(): Promise<void> {}

  async utime(atime: number | Date, mtime: number | Date): Promise<void> {
    await this.#fs.utime(this.#path, atime, mtime);
  }

  async lock(_exclusive?: boolean): Promise<void> {
    throw new TypeError("FsFile.lock() is not supported by cordon's sandboxes (no descriptor is held across calls).");
  }

  async unlock(): Promise<void> {
    throw new TypeError("FsFile.unlock() is not supported by cordon's sandboxes.");
  }

  get readable(): ReadableStream<Uint8Array> {
    const chunk = 65536;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const buffer = new Uint8Array(chunk);
        const n = await this.read(buffer);
        if (n === null) controller.close();
        else controller.enqueue(buffer.subarray(0, n));
      },
    });
  }

  get writable(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({ write: async (data) => void (await this.write(data)) });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TypeError(`The file ${this.#path} is closed.`);
  }
}
