import { mkdtempSync, rmSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

/** One installed package: its lockfile entry, its own package.json, and other files. */
export interface FixturePackage {
  /** Lock entry fields; `resolved` defaults to a registry URL built from the lockfile name and `version`. */
  lock?: Record<string, unknown>;
  /** The package's own package.json (may lie about its name). Omit to install no package.json. */
  manifest?: Record<string, unknown>;
  /** Extra files, relative to the package folder. */
  files?: Record<string, string>;
}

export interface FixtureProject {
  root?: Record<string, unknown>;
  packages: Record<string, FixturePackage>;
  /** Written into the lockfile's root entry; defaults to every top-level package. */
  rootDependencies?: Record<string, string>;
}

export function registryUrl(name: string, version: string): string {
  const base = name.startsWith("@") ? name.split("/")[1] : name;
  return `https://registry.example/${name}/-/${base}-${version}.tgz`;
}

const madeDirs: string[] = [];

/** A temporary folder removed when the test process exits. */
export async function tempDir(prefix = "cordon-install-"): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  if (madeDirs.length === 0) process.once("exit", () => madeDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  madeDirs.push(dir);
  return dir;
}

/** Writes package.json, package-lock.json (v3) and a node_modules tree into `dir`. */
export async function writeProject(dir: string, project: FixtureProject): Promise<void> {
  const root = { name: "fixture-project", version: "1.0.0", ...project.root };
  await fs.writeFile(path.join(dir, "package.json"), JSON.stringify(root, null, 2) + "\n");
  const lockPackages: Record<string, unknown> = {
    "": { name: root.name, version: root.version, dependencies: project.rootDependencies ?? topLevel(project) },
  };
  for (const [location, pkg] of Object.entries(project.packages)) {
    const name = location.slice(location.lastIndexOf("node_modules/") + "node_modules/".length);
    const version = String(pkg.lock?.version ?? pkg.manifest?.version ?? "1.0.0");
    lockPackages[location] = {
      version,
      resolved: registryUrl(String(pkg.lock?.name ?? name), version),
      integrity: `sha512-${Buffer.from(location).toString("base64")}`,
      ...pkg.lock,
    };
    const dirOf = path.join(dir, location);
    if (pkg.manifest !== undefined) {
      await fs.mkdir(dirOf, { recursive: true });
      await fs.writeFile(path.join(dirOf, "package.json"), JSON.stringify(pkg.manifest, null, 2));
    }
    for (const [file, text] of Object.entries(pkg.files ?? {})) {
      await fs.mkdir(path.dirname(path.join(dirOf, file)), { recursive: true });
      await fs.writeFile(path.join(dirOf, file), text);
    }
  }
  const lock = { name: root.name, version: root.version, lockfileVersion: 3, requires: true, packages: lockPackages };
  await fs.writeFile(path.join(dir, "package-lock.json"), JSON.stringify(lock, null, 2) + "\n");
}

function topLevel(project: FixtureProject): Record<string, string> {
  const deps: Record<string, string> = {};
  for (const location of Object.keys(project.packages)) {
    if (/^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(location)) deps[location.slice("node_modules/".length)] = "*";
  }
  return deps;
}
