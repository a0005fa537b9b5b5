import path from "node:path";
import { AuditLog } from "../../install/audit-log.js";
import { asPolicyCommandError, findProjectDir } from "../../install/install.js";
import { sanitizeForTerminal } from "../terminal.js";

/** `cordon audit [FILE]`: the audit log, one readable line per record. */
export async function auditCommand(argv: string[]): Promise<number> {
  // The project's log, found as cordon install finds the project (a workspace's folder: the root's).
  let file = argv[0];
  if (file === undefined) {
    try {
      file = path.join(await findProjectDir(process.cwd()), ".cordon", "audit.jsonl");
    } catch (error) {
      throw asPolicyCommandError(error);
    }
  }
  const log = new AuditLog(file);
  const records = log.read();
  if (records.length === 0) {
    process.stdout.write(`No audit records in ${log.file}.\n`);
    return 0;
  }
  for (const r of records) {
    let line: string;
    switch (r.type) {
      case "install": line = `install   ${r.command}: ${r.packages} packages, ${r.scripted} with install code`; break;
      case "decision": line = `decision  ${r.package}: ${r.decision} by ${r.by}${r.reason ? ` (${r.reason})` : ""}`; break;
      case "script": line = `script    ${r.package} ${r.event} → exit ${r.exitCode} in ${r.durationMs} ms${r.limitHit ? ` (${r.limitHit} limit)` : ""}; write ${r.grants.write.join(",")}; net ${r.grants.net.join(",") || "none"}`; break;
      case "project-script": line = `project   ${r.event} → exit ${r.exitCode} (the project's own script, not sandboxed)`; break;
      case "net": line = `net       ${r.package ?? ""} ${r.action} ${r.host}:${r.port}${r.reason ? ` (${r.reason})` : ""}`; break;
      case "net-bypass": line = `net       ${r.package} tried the network directly ${r.attempts} time(s), around the proxy (dropped)`; break;
      case "build-cache": line = `cache     ${r.package} ${r.action}${r.files !== undefined ? ` (${r.files} files, ${r.bytes} bytes)` : ""}${r.reason ? `: ${r.reason}` : ""} in ${r.durationMs} ms`; break;
      case "build-cache-off": line = `cache     off for this install: ${r.reason}`; break;
      case "policy": line = `policy    ${r.action} ${r.packages.join(", ")}`; break;
    }
    process.stdout.write(`${r.time}  ${sanitizeForTerminal(line)}\n`);
  }
  return 0;
}
