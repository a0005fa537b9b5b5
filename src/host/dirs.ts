import path from "node:path";

/** $XDG_CACHE_HOME/cordon, else ~/.cache/cordon: the build cache, the scan cache, the Deno binary. */
export function cordonCacheDir(env: NodeJS.ProcessEnv, homeDir: string): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homeDir, ".cache");
  return path.join(base, "cordon");
}

/** $CORDON_DATA_DIR, $XDG_DATA_HOME/cordon, else ~/.local/share/cordon: the SDK's sandboxes, snapshots and volumes. */
export function cordonDataDir(env: NodeJS.ProcessEnv, homeDir: string): string {
  if (env.CORDON_DATA_DIR && path.isAbsolute(env.CORDON_DATA_DIR)) return env.CORDON_DATA_DIR;
  const base = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(homeDir, ".local", "share");
  return path.join(base, "cordon");
}
