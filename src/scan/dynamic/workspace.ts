import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError } from "../../errors.js";
import { writeHoneyFiles } from "./file-tree.js";
import type { HoneyPlant } from "./honeytokens.js";

/**
 * The folders one observation owns, under a fresh private temporary folder:
 *
 *     root/home/                      the fake home, bound over the sandbox's $HOME
 *     root/project/                   a fake project, the sandbox's only writable grant
 *     root/project/node_modules/NAME  a copy of the package, installed there
 *
 * The package never runs in the folder it was given (that folder may be a
 * user's checkout or a shared node_modules), and never sees the user's home.
 */
export interface ObservationWorkspace {
  root: string;
  home: string;
  project: string;
  packageDir: string;
  /** Removes everything, on every path; safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Moves what npm installed in `from` (node_modules) next to the observed
 * package, so Node finds it from there. An entry that already exists (the
 * package itself) is left as it is.
 */
export async function adoptDependencies(from: string, workspace: ObservationWorkspace): Promise<void> {
  const source = path.join(from, "node_modules");
  const target = path.join(workspace.project, "node_modules");
  for (const entry of await fs.promises.readdir(source).catch(() => [] as string[])) {
    if (entry.startsWith("@") && fs.existsSync(path.join(target, entry))) {
      for (const scoped of await fs.promises.readdir(path.join(source, entry))) {
        if (!fs.existsSync(path.join(target, entry, scoped))) await fs.promises.rename(path.join(source, entry, scoped), path.join(target, entry, scoped));
      }
    } else if (!fs.existsSync(path.join(target, entry))) {
      await fs.promises.rename(path.join(source, entry), path.join(target, entry));
    }
  }
}

/**
 * The node_modules folders a package folder sits in, innermost first
 * (/p/node_modules/a/node_modules/b → [/p/node_modules/a/node_modules, /p/node_modules]):
 * where Node would look for its dependencies in the tree it came from.
 */
export function enclosingNodeModules(dir: string): string[] {
  const real = fs.realpathSync(dir);
  const found: string[] = [];
  let at = real.lastIndexOf(`${path.sep}node_modules${path.sep}`);
  while (at >= 0) {
    found.push(real.slice(0, at + "/node_modules".length));
    at = real.lastIndexOf(`${path.sep}node_modules${path.sep}`, at - 1);
  }
  return found;
}

export async function prepareWorkspace(source: string, name: string, version: string, plant: HoneyPlant, tempRoot = os.tmpdir()): Promise<ObservationWorkspace> {
  if (!/^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9_][\w.-]*$/i.test(name) || name.includes("..")) {
    throw new ConfigError(`The package's name "${name}" cannot be a folder name under node_modules.`, { input: source, hint: "Observe a package whose package.json has a valid npm name." });
  }
  const root = await fs.promises.mkdtemp(path.join(fs.realpathSync(tempRoot), "cordon-observe-"));
  const remove = async (): Promise<void> => removeTree(root);
  try {
    await fs.promises.chmod(root, 0o700);
    const home = path.join(root, "home");
    const project = path.join(root, "project");
    const packageDir = path.join(project, "node_modules", name);
    fs.mkdirSync(home, { mode: 0o700 });
    fs.mkdirSync(path.dirname(packageDir), { recursive: true });
    // Links are copied as links, never followed: a link in the package to
    // ~/.ssh must not become a copy of the user's key.
    await fs.promises.cp(source, packageDir, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
    fs.writeFileSync(path.join(project, "package.json"), `${JSON.stringify({ name: "web", version: "1.0.0", private: true, dependencies: { [name]: version } }, null, 2)}\n`);
    writeHoneyFiles(home, plant.homeFiles);
    writeHoneyFiles(project, plant.projectFiles);
    return { root, home, project, packageDir, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * rm -rf that also gets through folders the package made unreadable
 * (mode 000) by giving them back their owner's permissions first.
 */
async function removeTree(root: string): Promise<void> {
  try {
    await fs.promises.rm(root, { recursive: true, force: true, maxRetries: 2 });
    return;
  } catch {
    // fall through: restore permissions and try again
  }
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    try {
      fs.chmodSync(dir, 0o700);
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) stack.push(path.join(dir, entry.name));
    } catch { /* gone or not ours */ }
  }
  await fs.promises.rm(root, { recursive: true, force: true, maxRetries: 2 });
}
