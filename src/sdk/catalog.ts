import { inspect } from "node:util";
import { ConfigError } from "../errors.js";
import { parseMemory, refuseRemoteOptions, type SandboxOptions } from "./options.js";
import { Sandbox } from "./sandbox.js";
import type { ConnectOptions } from "./service/client.js";
import { copyVolumeToLayer, SandboxStore, type SnapshotInfo, type VolumeInfo } from "./store.js";

/**
 * Where the catalog looks (default: the user's data dir, see
 * defaultDataDir()), plus `@deno/sandbox`'s client options: `token` and
 * `org` are accepted and unused (there is no account); an `apiEndpoint`
 * is refused (there is no service).
 */
export interface CatalogOptions {
  dataDir?: string;
  token?: string;
  org?: string;
  apiEndpoint?: string;
}

/** `@deno/sandbox`'s SandboxMetadata: a running sandbox, as Client.sandboxes.list() gives it. */
export interface SandboxMetadata {
  id: string;
  createdAt: Date;
  stoppedAt: Date | null;
  region: string;
  status: "running" | "stopped";
  labels: Record<string, string>;
}

const CONSTRUCT = Symbol("catalog");

function storeFor(options: CatalogOptions = {}): SandboxStore {
  refuseRemoteOptions({ apiEndpoint: options.apiEndpoint }, "client");
  return new SandboxStore(options.dataDir ?? undefined);
}

/** `@deno/sandbox`'s sizes: bytes, or "10GiB", "500MB", ... */
type Capacity = number | `${number}GB` | `${number}MB` | `${number}kB` | `${number}GiB` | `${number}MiB` | `${number}KiB`;

/** Options of Volume.create, as `@deno/sandbox`'s VolumeInit. */
export interface VolumeInit extends CatalogOptions {
  slug: string;
  /** Required by Deno's types; recorded, and shown as the volume's region. */
  region?: string;
  /** Recorded, not enforced: a volume is a folder on the host's disk. */
  capacity?: Capacity;
  /** Only "builtin:debian-13" (the host's system below, as every sandbox has). */
  from?: string;
}

/**
 * A named folder that outlives sandboxes: mounted with `volumes: { "/data":
 * slug }`, or as `root`, where it is the sandbox's writable home. Carries
 * `@deno/sandbox`'s fields (`id`, `slug`, `region`, `capacity`, ...) and
 * cordon's (`name` = slug, `createdAt`, `sizeBytes`).
 */
export class Volume {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly region: string;
  /** Bytes, as given on create (0 when none was). */
  readonly capacity: number;
  readonly estimatedAllocatedSize: number;
  readonly estimatedFlattenedSize: number;
  /** Any volume can be a sandbox's root. */
  readonly isBootable = true;
  readonly baseSnapshot: { id: string; slug: string } | null = null;
  readonly createdAt: Date;
  readonly sizeBytes: number;

  /** @internal Use Volume.create() or Volume.get(). */
  constructor(token: symbol, info: VolumeInfo) {
    if (token !== CONSTRUCT) throw new TypeError("Use Volume.create() or Volume.get().");
    this.id = info.id;
    this.slug = this.name = info.name;
    this.region = info.region ?? "local";
    this.capacity = info.capacityBytes ?? 0;
    this.estimatedAllocatedSize = this.estimatedFlattenedSize = this.sizeBytes = info.sizeBytes;
    this.createdAt = info.createdAt;
  }

  static async create(init: VolumeInit): Promise<Volume> {
    const store = storeFor(init);
    if (init.from !== undefined && init.from !== "builtin:debian-13") {
      throw new ConfigError(`Volume.create: from ${JSON.stringify(init.from)} is not supported by cordon; a volume starts empty, on top of the host's system.`, {
        input: "from",
        hint: 'Leave from out (or use "builtin:debian-13"), and start a sandbox with { root: "<snapshot>" } to begin from a snapshot.',
      });
    }
    const capacityBytes = init.capacity === undefined ? undefined : parseMemory(init.capacity, Number.MAX_SAFE_INTEGER, "capacity");
    return new Volume(CONSTRUCT, store.createVolume(init.slug, { capacityBytes, region: init.region }));
  }

  /** By slug or id; null when there is none. */
  static async get(idOrSlug: string, options?: CatalogOptions): Promise<Volume | null> {
    const info = (await storeFor(options).listVolumes()).find((v) => v.name === idOrSlug || v.id === idOrSlug);
    return info ? new Volume(CONSTRUCT, info) : null;
  }

  /** cordon only (Deno: `client.volumes.list()`). */
  static async list(options?: CatalogOptions): Promise<Volume[]> {
    return (await storeFor(options).listVolumes()).map((info) => new Volume(CONSTRUCT, info));
  }

  /** cordon only (Deno: `client.volumes.delete()`). */
  static async delete(idOrSlug: string, options?: CatalogOptions): Promise<void> {
    await storeFor(options).deleteVolume(idOrSlug);
  }

  [inspect.custom](): string {
    return `Volume ${inspect({ id: this.id, slug: this.slug, region: this.region, capacity: this.capacity, estimatedAllocatedSize: this.estimatedAllocatedSize })}`;
  }
}

/**
 * A read-only image of a whole sandbox (everything it changed, stacked on
 * the snapshot it started from), made with `sandbox.snapshot(slug)` or,
 * from a volume, `Snapshot.create(volume, { slug })`. Start from one with
 * `Sandbox.create({ root: slug })`. Carries `@deno/sandbox`'s fields and
 * cordon's (`name`, `createdAt`, `sizeBytes`, `fromSandbox`, `parent`).
 */
export class Snapshot {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly region = "local";
  /** Bytes of its own layer. */
  readonly allocatedSize: number;
  readonly flattenedSize: number;
  readonly isBootable = true;
  /** The volume it was made from; null for one taken from a running sandbox. */
  readonly volume: { id: string; slug: string } | null;
  readonly createdAt: Date;
  readonly sizeBytes: number;
  readonly fromSandbox: string | undefined;
  readonly parent: string | undefined;

  /** @internal Use Snapshot.create() or Snapshot.get(). */
  constructor(token: symbol, info: SnapshotInfo) {
    if (token !== CONSTRUCT) throw new TypeError("Use Snapshot.create() or Snapshot.get().");
    this.id = info.id;
    this.slug = this.name = info.name;
    this.allocatedSize = this.flattenedSize = this.sizeBytes = info.sizeBytes;
    this.volume = info.fromVolume ?? null;
    this.createdAt = info.createdAt;
    this.fromSandbox = info.fromSandbox;
    this.parent = info.parent;
  }

  /**
   * Snapshots a volume, as `@deno/sandbox` does: the volume's files become
   * the snapshot's home folder (a volume as `root` is a sandbox's home).
   * Refused while a sandbox uses the volume, as Deno refuses it.
   */
  static async create(volumeIdOrSlug: string, init: { slug: string } & CatalogOptions): Promise<Snapshot> {
    const store = storeFor(init);
    return new Snapshot(CONSTRUCT, await copyVolumeToLayer(store, volumeIdOrSlug, init.slug));
  }

  static async get(idOrSlug: string, options?: CatalogOptions): Promise<Snapshot | null> {
    const info = (await storeFor(options).listSnapshots()).find((s) => s.name === idOrSlug || s.id === idOrSlug);
    return info ? new Snapshot(CONSTRUCT, info) : null;
  }

  /** cordon only (Deno: `client.snapshots.list()`). */
  static async list(options?: CatalogOptions): Promise<Snapshot[]> {
    return (await storeFor(options).listSnapshots()).map((info) => new Snapshot(CONSTRUCT, info));
  }

  /** cordon only (Deno: `client.snapshots.delete()`). Refused while another snapshot is stacked on it. */
  static async delete(idOrSlug: string, options?: CatalogOptions): Promise<void> {
    await storeFor(options).deleteSnapshot(idOrSlug);
  }

  [inspect.custom](): string {
    return `Snapshot ${inspect({ id: this.id, slug: this.slug, region: this.region, allocatedSize: this.allocatedSize, flattenedSize: this.flattenedSize })}`;
  }
}

/** One page holding everything: a local catalog is small. Shaped as `@deno/sandbox`'s PaginatedList. */
export interface PaginatedList<T> {
  items: T[];
  hasMore: boolean;
  nextCursor: string | null;
  getNextPage(): Promise<PaginatedList<T> | null>;
  [Symbol.asyncIterator](): AsyncIterableIterator<T>;
}

function onePage<T>(items: T[]): PaginatedList<T> {
  return {
    items,
    hasMore: false,
    nextCursor: null,
    getNextPage: async () => null,
    async *[Symbol.asyncIterator]() { yield* items; },
  };
}

/**
 * `@deno/sandbox`'s Client, over the local catalog: `volumes`, `snapshots`
 * and `sandboxes`. Deno Deploy's apps, revisions, timelines and layers have
 * no local counterpart; using them is a ConfigError saying so.
 */
export class Client {
  readonly #options: CatalogOptions;

  constructor(options: CatalogOptions = {}) {
    storeFor(options);
    this.#options = { ...options };
  }

  get volumes() {
    const options = this.#options;
    return {
      get: (idOrSlug: string) => Volume.get(idOrSlug, options),
      list: async (_opts?: unknown) => onePage(await Volume.list(options)),
      create: (init: VolumeInit) => Volume.create({ ...options, ...init }),
      delete: (idOrSlug: string) => Volume.delete(idOrSlug, options),
      snapshot: (idOrSlug: string, init: { slug: string }) => Snapshot.create(idOrSlug, { ...options, ...init }),
    };
  }

  get snapshots() {
    const options = this.#options;
    return {
      get: (idOrSlug: string) => Snapshot.get(idOrSlug, options),
      list: async (_opts?: unknown) => onePage(await Snapshot.list(options)),
      delete: (idOrSlug: string) => Snapshot.delete(idOrSlug, options),
    };
  }

  get sandboxes() {
    const options = this.#options;
    return {
      create: (sandboxOptions: SandboxOptions = {}) => Sandbox.create({ dataDir: options.dataDir, ...sandboxOptions }),
      connect: (id: string, connectOptions: ConnectOptions = {}) => Sandbox.connect(id, { dataDir: options.dataDir, ...connectOptions }),
      /**
       * The sandboxes running now in this data folder, as `@deno/sandbox`'s
       * SandboxMetadata (only running ones: an ended sandbox leaves nothing).
       * Those created with a `timeout` can be reached with connect().
       */
      list: async (listOptions: { labels?: Record<string, string> } = {}): Promise<SandboxMetadata[]> => {
        const wanted = Object.entries(listOptions.labels ?? {});
        return storeFor(options).listSandboxes()
          .filter((s) => wanted.every(([key, value]) => s.labels[key] === value))
          .map((s) => ({ id: s.id, createdAt: s.createdAt, stoppedAt: null, region: "local", status: "running", labels: { ...s.labels } }));
      },
    };
  }

  get apps(): never { return notLocal("apps"); }
  get revisions(): never { return notLocal("revisions"); }
  get timelines(): never { return notLocal("timelines"); }
  get layers(): never { return notLocal("layers"); }
}

function notLocal(name: string): never {
  throw new ConfigError(`Client.${name}: Deno Deploy's ${name} have no local counterpart in cordon.`, {
    input: `Client.${name}`,
    hint: "Use @deno/sandbox's Client for Deno Deploy; cordon's Client covers volumes, snapshots and sandboxes.",
  });
}
