import { promises as fs } from "node:fs";
import path from "node:path";
import { registryUrl } from "./fixture.js";

/**
 * Writes a project of `packageCount` locked and installed packages into
 * `dir`: a package.json, a v3 package-lock.json and node_modules. About one in
 * twenty packages has an install script (a `node install.js` that loads a
 * helper), one in a hundred a binding.gyp; dependencies form a layered graph
 * with a few nested copies. Deterministic: the same count gives the same tree.
 * Used by the 1,000-package inventory benchmark and its test.
 */
export async function makeSyntheticTree(dir: string, packageCount: number): Promise<{ scripted: number }> {
  const names = Array.from({ length: packageCount }, (_, i) => (i % 10 === 0 ? `@scope${i % 7}/pkg-${i}` : `pkg-${i}`));
  const lockPackages: Record<string, unknown> = {};
  const rootDeps: Record<string, string> = {};
  let scripted = 0;
  const writes: Promise<void>[] = [];
  for (let i = 0; i < packageCount; i++) {
    const name = names[i]!;
    const version = `1.${i % 13}.${i % 5}`;
    // Each package depends on up to three packages after it: a DAG with shared nodes.
    const deps: Record<string, string> = {};
    for (const step of [1, 7, 31]) if (i + step < packageCount && (i + step) % 3 !== 0) deps[names[i + step]!] = "*";
    if (i < 20) rootDeps[name] = "*";
    const location = `node_modules/${name}`;
    const manifest: Record<string, unknown> = { name, version, main: "index.js", dependencies: deps };
    const files: Record<string, string> = { "index.js": `module.exports = ${i};\n`, "README.md": `# ${name}\n` };
    if (i % 20 === 5) {
      scripted++;
      manifest.scripts = { postinstall: "node install.js", test: "node test.js" };
      files["install.js"] = `const helper = require("./lib/helper");\nhelper(${i % 4});\n`;
      files["lib/helper.js"] = "module.exports = (n) => n + 1;\n";
    } else if (i % 100 === 42) {
      scripted++;
      files["binding.gyp"] = `{ 'targets': [ { 'target_name': 'b${i}', 'sources': [ 'src/b.cc' ], } ] }\n`;
      files["src/b.cc"] = "int main() { return 0; }\n";
    }
    lockPackages[location] = {
      version,
      resolved: registryUrl(name, version),
      integrity: `sha512-${Buffer.from(name).toString("base64")}`,
      ...(Object.keys(deps).length > 0 ? { dependencies: deps } : {}),
      ...(manifest.scripts !== undefined || files["binding.gyp"] !== undefined ? { hasInstallScript: true } : {}),
    };
    writes.push(writePackage(path.join(dir, location), manifest, files));
  }
  await Promise.all(writes);
  await fs.writeFile(path.join(dir, "package.json"), JSON.stringify({ name: "synthetic", version: "1.0.0", dependencies: rootDeps }, null, 2) + "\n");
  const lock = { name: "synthetic", version: "1.0.0", lockfileVersion: 3, requires: true, packages: { "": { name: "synthetic", version: "1.0.0", dependencies: rootDeps }, ...lockPackages } };
  await fs.writeFile(path.join(dir, "package-lock.json"), JSON.stringify(lock, null, 2) + "\n");
  return { scripted };
}

async function writePackage(dir: string, manifest: Record<string, unknown>, files: Record<string, string>): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), text);
  }
}
