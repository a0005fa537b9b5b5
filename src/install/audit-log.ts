import fs from "node:fs";
import path from "node:path";

/** Audit records are versioned so old logs stay readable. */
export const AUDIT_VERSION = 1;

export type AuditRecord =
  | { type: "install"; command: string; packages: number; scripted: number }
  | { type: "decision"; package: string; location: string; decision: "approved" | "denied" | "unknown" | "changed" | "skipped"; by: "policy" | "user" | "ci" | "flag"; reason?: string }
  | { type: "script"; package: string; location: string; event: string; command: string; exitCode: number; durationMs: number; limitHit?: string; discardedHomeWrites?: { path: string; bytes: number }[]; grants: { read: string[]; write: string[]; env: string[]; net: string[] } }
  | { type: "build-cache"; package: string; location: string; action: "restored" | "refused" | "broken" | "stored" | "not-stored"; key: string; durationMs: number; files?: number; bytes?: number; reason?: string }
  | { type: "build-cache-off"; reason: string }
  | { type: "project-script"; event: string; command: string; exitCode: number; durationMs: number }
  | { type: "net"; package?: string; action: "allowed" | "blocked"; host: string; port: number; bytesUp?: number; bytesDown?: number; durationMs?: number; reason?: string }
  | { type: "net-bypass"; package: string; attempts: number }
  | { type: "policy"; action: string; packages: string[] };

/**
 * The append-only JSON-lines log of every decision and script run
 * (`.cordon/audit.jsonl` by default). Each line is written with one
 * O_APPEND write, so concurrent writers never interleave within a record.
 */
export class AuditLog {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  static forProject(projectDir: string): AuditLog {
    return new AuditLog(path.join(projectDir, ".cordon", "audit.jsonl"));
  }

  write(record: AuditRecord): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const line = `${JSON.stringify({ v: AUDIT_VERSION, time: new Date().toISOString(), ...record })}\n`;
    fs.appendFileSync(this.file, line, { flag: "a" });
  }

  read(): (AuditRecord & { v: number; time: string })[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch {
      return [];
    }
    return text.split("\n").filter(Boolean).flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditRecord & { v: number; time: string }];
      } catch {
        return [];
      }
    });
  }
}
