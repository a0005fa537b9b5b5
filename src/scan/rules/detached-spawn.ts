import type { ESTree } from "meriyah";
import { atInstallTime, type FileRule } from "./rule.js";
import { commandLine, processCalls, stringsMatching } from "./signals.js";

const BACKGROUND_SHELL = /\bnohup\b|\bsetsid\b|\bstart\s+\/b\b|-WindowStyle\s+Hidden|&\s*disown\b|[^&]&\s*$/i;

/**
 * A process started to outlive the install: `detached: true` with its output
 * thrown away, or `nohup … &`. Install scripts that do this leave a payload
 * running after npm has finished (Shai-Hulud 2 ran its payload detached).
 * Update checkers do this at run time too, so it weighs more at install time.
 */
export const detachedSpawn: FileRule = {
  id: "detached-spawn",
  summary: "starts a detached or hidden background process",
  check(file, report) {
    for (const call of processCalls(file)) {
      // `const opts = { detached: true }; spawn(x, args, opts)` (the kodane daemon) counts too.
      const options = call.args.map((arg) => file.ast?.resolve(arg) ?? arg).find((arg): arg is ESTree.ObjectExpression => arg.type === "ObjectExpression");
      const detached = options && hasTrueProperty(options, "detached");
      if (detached || BACKGROUND_SHELL.test(commandLine(file, call))) {
        report({ severity: atInstallTime("medium", file.installTime), message: "starts a detached background process that outlives its parent", node: call.node });
        return;
      }
    }
    const shell = stringsMatching(file, /^\s*nohup\s|\bsetsid\s+\S/)[0];
    if (shell) report({ severity: atInstallTime("low", file.installTime), message: "spells a background shell command", node: shell.node });
  },
};

function hasTrueProperty(object: ESTree.ObjectExpression, name: string): boolean {
  return object.properties.some(
    (property) => property.type === "Property" && property.key.type === "Identifier" && property.key.name === name
      && property.value.type === "Literal" && property.value.value === true,
  );
}

