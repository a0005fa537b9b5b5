import path from "node:path";
import { readBounded } from "./bounded-read.js";
import { decideInstallScripts, type Decision } from "./decide.js";
import type { InstallCodeStore } from "./install-code-store.js";
import { inventoryInstallScripts, type Inventory, type InventoryOptions } from "./inventory.js";
import { displayId } from "./package-identity.js";
import type { InstallPolicy } from "./policy-file.js";
import { readInstallPolicy } from "./policy-read.js";
import { unifiedDiff, type DiffOptions } from "./unified-diff.js";

export interface InstallCheck {
  readonly inventory: Inventory;
  readonly policy: InstallPolicy;
  /** One per inventoried package, in install order (dependencies first). */
  readonly decisions: readonly Decision[];
  /** Policy entries npm would ignore, to show the user. */
  readonly warnings: readonly string[];
}

/**
 * The whole front half of `cordon install` after `npm install
 * --ignore-scripts`: inventory the tree, read the policy, decide each
 * package. Runs nothing. The policy is read first so a malformed
 * package.json fails before any package file is opened.
 */
export async function checkInstallScripts(projectDir: string, options: InventoryOptions = {}): Promise<InstallCheck> {
  const source = await readInstallPolicy(projectDir);
  const inventory = await inventoryInstallScripts(projectDir, options);
  const decisions = decideInstallScripts(inventory.packages, source.policy, inventory.projectDir);
  return { inventory, policy: source.policy, decisions, warnings: source.policy.warnings };
}

export interface ChangedDiffOptions extends DiffOptions {
  /**
   * Called once with the approved files (path → hash) the store does not
   * hold; it may bring them into the store (approved-code.ts fetches the
   * pinned version from the registry). Returns why it could not.
   */
  recover?: (missing: Readonly<Record<string, string>>) => Promise<string | undefined>;
}

/**
 * A unified diff of a `changed` decision, bounded to `maxBytes` in all:
 * scripts from the pin's text, files from the install-code store when it
 * kept them or `recover` brought them back (otherwise the new file in full,
 * marked as such).
 */
export async function diffChangedInstallCode(
  decision: Extract<Decision, { kind: "changed" }>,
  store: InstallCodeStore,
  options: ChangedDiffOptions = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const from = `${decision.package.identity.name}@${decision.pin.version ?? "pinned"}`;
  const to = displayId(decision.package.identity);
  const parts: string[] = [];
  let used = 0;
  let unrecovered: string | undefined;
  const missing: Record<string, string> = {};
  for (const change of decision.changes) {
    if (change.what === "file" && change.before !== undefined && (await store.get(change.before)) === undefined) missing[change.name] = change.before;
  }
  if (Object.keys(missing).length > 0 && options.recover !== undefined) unrecovered = await options.recover(missing);
  for (const change of decision.changes) {
    if (used >= maxBytes) {
      parts.push(`… ${decision.changes.length - parts.length} more changes not shown\n`);
      break;
    }
    const budget = { ...options, maxBytes: maxBytes - used };
    let text: string;
    if (change.what === "script") {
      text = unifiedDiff(`${from} scripts.${change.name}`, `${to} scripts.${change.name}`, withNewline(change.before), withNewline(change.after), budget);
    } else {
      const before = change.before === undefined ? undefined : await store.get(change.before);
      const after = change.after === undefined ? undefined : await readBounded(path.join(decision.package.dir, change.name), 8 * 1024 ** 2).catch(() => undefined);
      const note = change.before !== undefined && before === undefined ? ` (approved text not kept${unrecovered ? `, and ${unrecovered}` : ""}; showing the new file whole)` : "";
      text = unifiedDiff(`${from}/${change.name}`, `${to}/${change.name}${note}`, before?.toString("utf8"), after?.toString("utf8"), budget);
    }
    parts.push(text);
    used += Buffer.byteLength(text);
  }
  return parts.join("");
}

function withNewline(text: string | undefined): string | undefined {
  return text === undefined ? undefined : `${text}\n`;
}
