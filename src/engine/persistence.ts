import fs from "node:fs";
import path from "node:path";

/**
 * Files that make code run later, outside any sandbox, when a person or a
 * tool merely opens the folder: git runs hooks and `core.fsmonitor`/`core.pager`
 * commands from any `.git` it finds walking up from the current folder;
 * husky and CI run their scripts on the next commit or push; direnv runs
 * `.envrc` on `cd`; editors run `.vscode/tasks.json` and settings-driven
 * tools; shells read their rc files; npm and yarn read `.npmrc`/`.yarnrc*`
 * (scripts, registries, tokens) from the folder they run in.
 *
 * A sandbox with a writable grant can create these *anywhere* below it. The
 * ones that exist when it starts are mounted read-only (PROTECTED_NAMES);
 * everything in this list that it creates or changes is reported when it
 * ends, so nobody is surprised later.
 */
export const PROTECTED_NAMES = [
  ".git", ".husky", ".github/workflows", ".github/actions", ".vscode", ".idea", ".envrc", ".claude", ".devcontainer",
];

const WATCHED_FILES = new Set([
  ".envrc", ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zshenv", ".zprofile",
  ".npmrc", ".yarnrc", ".yarnrc.yml", ".gitconfig", ".gitmodules", ".pnpmfile.cjs", ".pre-commit-config.yaml",
  "mise.toml", ".mise.toml", ".tool-versions", ".lefthook.yml", "lefthook.yml", ".mcp.json",
]);
/** Inside these folders every file is watched: CI, git hooks managers, editors, dev containers, coding agents' hooks. */
const WATCHED_FOLDERS = [".husky", ".github", ".vscode", ".idea", ".claude", ".devcontainer", ".cursor"];
/**
 * A git directory's files that name commands or where to find them (config,
 * config.worktree, info/ attributes that pick filter drivers, commondir and
 * gitdir pointers); the rest is objects and refs.
 */
const WATCHED_GIT_FILES = ["config", "config.worktree", "HEAD", "commondir", "gitdir", "info/attributes", "info/exclude"];

/** Folders not descended into: dependency trees are the installer's to check, and they are huge. */
const SKIPPED_FOLDERS = new Set(["node_modules"]);
/** The walk stops here, and says so: a tree this large is reported as not fully watched. */
const MAX_ENTRIES = 50_000;
const MAX_HOOKS = 1_000;

export interface PersistenceScan {
  /** Existing protected entries (real files or folders, never links) below the roots. */
  protect: string[];
  /** Watched file → a signature of its identity and content metadata. */
  files: Map<string, string>;
  /** True when the walk stopped at MAX_ENTRIES. */
  truncated: boolean;
}

export interface PersistenceChange {
  path: string;
  change: "created" | "changed";
}

/** Walks each root once (bounded), collecting protected entries and watched files. */
export function scanPersistence(roots: readonly string[]): PersistenceScan {
  const scan: PersistenceScan = { protect: [], files: new Map(), truncated: false };
  let entries = 0;
  const visit = (dir: string, root: string): void => {
    let list: fs.Dirent[];
    try {
      list = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    // git also takes a folder holding HEAD, objects/ and refs/ for a
    // repository (a bare one), config and hooks included, when it runs there.
    if (dir !== root && looksLikeGitDir(list)) {
      entries += watchGit(dir, undefined, scan);
      return;
    }
    for (const entry of list) {
      if (++entries > MAX_ENTRIES) {
        scan.truncated = true;
        return;
      }
      const full = path.join(dir, entry.name);
      const relative = path.relative(root, full);
      if (isProtectedName(relative) && !entry.isSymbolicLink()) scan.protect.push(full);
      if (entry.name === ".git") {
        entries += watchGit(full, entry, scan);
        continue;
      }
      if (WATCHED_FILES.has(entry.name) || watchedFolderOf(relative) !== undefined) record(full, scan);
      if (entry.isDirectory() && !SKIPPED_FOLDERS.has(entry.name)) visit(full, root);
    }
  };
  for (const root of roots) visit(root, root);
  return scan;
}

/**
 * What a sandbox created or changed among the watched files, compared with
 * the scan taken before it ran. `complete` is false when the sandbox left
 * more than the walk looks at (a flood of files hides the rest): the caller
 * must then say the folder could not be checked, never "nothing planted".
 */
export function persistenceChanges(before: PersistenceScan, roots: readonly string[]): { changes: PersistenceChange[]; complete: boolean } {
  const after = scanPersistence(roots);
  const changes: PersistenceChange[] = [];
  for (const [file, signature] of after.files) {
    const earlier = before.files.get(file);
    if (earlier === undefined) changes.push({ path: file, change: "created" });
    else if (earlier !== signature) changes.push({ path: file, change: "changed" });
  }
  return { changes: changes.sort((a, b) => a.path.localeCompare(b.path)), complete: !after.truncated };
}

function isProtectedName(relative: string): boolean {
  return PROTECTED_NAMES.some((name) => relative === name || relative.endsWith(`/${name}`));
}

function watchedFolderOf(relative: string): string | undefined {
  return WATCHED_FOLDERS.find((folder) => relative.startsWith(`${folder}/`) || relative.includes(`/${folder}/`));
}

function looksLikeGitDir(list: readonly fs.Dirent[]): boolean {
  const names = new Set(list.map((e) => e.name));
  return names.has("HEAD") && names.has("objects") && names.has("refs");
}

/** Records a git directory's (or `.git` file's) watched files; returns how many entries it looked at. */
function watchGit(full: string, entry: fs.Dirent | undefined, scan: PersistenceScan): number {
  record(full, scan);
  if (entry !== undefined && !entry.isDirectory()) return 1;
  for (const name of WATCHED_GIT_FILES) record(path.join(full, name), scan);
  let hooks: string[] = [];
  try {
    hooks = fs.readdirSync(path.join(full, "hooks"));
  } catch { /* no hooks folder */ }
  // A hooks folder is small; one with more than this is an attempt to slow cordon down.
  if (hooks.length > MAX_HOOKS) scan.truncated = true;
  for (const hook of hooks.slice(0, MAX_HOOKS)) record(path.join(full, "hooks", hook), scan);
  return 1 + WATCHED_GIT_FILES.length + hooks.length;
}

/** Identity, type, mode, size and times: any write, replacement or chmod changes it. Folders are seen through their files. */
function record(file: string, scan: PersistenceScan): void {
  try {
    const stat = fs.lstatSync(file, { bigint: true });
    if (stat.isDirectory()) return;
    const link = stat.isSymbolicLink() ? fs.readlinkSync(file) : "";
    scan.files.set(file, `${stat.ino}:${stat.mode}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${link}`);
  } catch { /* not there */ }
}
