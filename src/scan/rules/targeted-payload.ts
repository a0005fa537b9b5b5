import { staticString } from "../ast/static-value.js";
import { codeArgument } from "./download-execute.js";
import { atInstallTime, type FileRule } from "./rule.js";

const DECIPHER = /^crypto\.createDecipher(?:iv)?$/;
const WRITE = /^fs\.(?:writeFile|writeFileSync|appendFile|appendFileSync)$/;
const COMPILE = /(?:^|\.)_compile$|^(?:eval|Function|vm\.runIn(?:New|This)?Context|vm\.Script)$/;

/**
 * The event-stream / flatmap-stream shape: an encrypted payload whose key is
 * the name or description of the package that depends on it, read from
 * `npm_package_*` variables, so it decrypts (and runs) only inside its target.
 */
export const targetedPayload: FileRule = {
  id: "targeted-payload",
  summary: "decrypts a payload with a key taken from the host package (npm_package_*) and runs it",
  check(file, report) {
    const ast = file.ast;
    if (!ast) return;
    const packageKey = ast.members.find((site) => /^process\.env(?:\.npm_package_\w+|\[\])$/.test(site.path) && (site.path !== "process.env[]" || file.text.includes("npm_package_")));
    const decipher = ast.calls.find((call) => DECIPHER.test(call.callee));
    const compile = ast.calls.find((call) => COMPILE.test(call.callee) && staticString(codeArgument(call)) === undefined);
    // Appending the decrypted text to another package's source in
    // node_modules (flatmap-stream's first stage) runs it as surely as eval.
    const injected = ast.calls.find((call) => WRITE.test(call.callee) && /node_modules[\\/]/.test(ast.stringOf(call.args[0]) ?? ""));
    if (packageKey && decipher) {
      report({
        severity: compile || injected ? "critical" : "high",
        message: `decrypts data with a key from the host package's metadata${compile ? " and compiles the result" : injected ? " and writes it into another package's code" : ""} (event-stream pattern)`,
        node: decipher.node,
      });
    } else if (decipher && compile) {
      report({ severity: atInstallTime("medium", file.installTime), message: "decrypts data and compiles it as code", node: compile.node });
    }
  },
};
