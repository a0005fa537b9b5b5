import { SandboxStore, type SnapshotInfo, type VolumeInfo } from "./store.js";

/** Where the catalog looks (default: the user's data dir, see defaultDataDir()). */
export interface CatalogOptions {
  dataDir?: string;
}

const storeFor = (options: CatalogOptions = {}): SandboxStore => new SandboxStore(options.dataDir ?? undefined);

/** Named folders that outlive sandboxes. `@deno/sandbox`'s Volume, locally. */
export const Volume = {
  async create(init: { slug: string } & CatalogOptions): Promise<VolumeInfo> {
    return storeFor(init).createVolume(init.slug);
  },
  async get(slug: string, options?: CatalogOptions): Promise<VolumeInfo | null> {
    return (await storeFor(options).listVolumes()).find((v) => v.name === slug) ?? null;
  },
  async list(options?: CatalogOptions): Promise<VolumeInfo[]> {
    return storeFor(options).listVolumes();
  },
  async delete(slug: string, options?: CatalogOptions): Promise<void> {
    await storeFor(options).deleteVolume(slug);
  },
};

/** Read-only images made with `sandbox.snapshot(name)`; start from one with `Sandbox.create({ root: name })`. */
export const Snapshot = {
  async get(slug: string, options?: CatalogOptions): Promise<SnapshotInfo | null> {
    return (await storeFor(options).listSnapshots()).find((s) => s.name === slug) ?? null;
  },
  async list(options?: CatalogOptions): Promise<SnapshotInfo[]> {
    return storeFor(options).listSnapshots();
  },
  async delete(slug: string, options?: CatalogOptions): Promise<void> {
    await storeFor(options).deleteSnapshot(slug);
  },
};
