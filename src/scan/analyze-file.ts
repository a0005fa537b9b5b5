import { parseModule, parseScript, type ESTree } from "meriyah";
import { collectFacts, type AstFacts } from "./ast/facts.js";
import { SCAN_LIMITS } from "./limits.js";
import { mayMatterBytes } from "./prefilter.js";
import { exfiltrationLeads } from "./rules/exfiltration.js";
import { FILE_RULES, HOSTILE_INPUT_RULE } from "./rules/index.js";
import { launchedNames } from "./rules/native-binary.js";
import { dnsCommands, downloadCommands, networkCalls } from "./rules/signals.js";
import type { FileContext, FileFindingDraft, FileSummary } from "./rules/rule.js";
import { atInstallTime } from "./rules/rule.js";
import { evaluatesBuiltCode, hiddenCode } from "./hidden-code.js";
import { excerpt, LineIndex } from "./source-text.js";
import type { Finding, Severity } from "./types.js";
import { severityRank } from "./verdict.js";

export interface FileInput {
  path: string;
  bytes: Uint8Array;
  /** True for files an install script runs, and for inline install code. */
  installTime: boolean;
  /** JavaScript by extension or because something runs it; other files only get a binary check. */
  isJavaScript: boolean;
  /** A shell, batch or PowerShell script: read whole, text-only checks, never parsed. */
  shellScript: boolean;
}

export interface FileAnalysis {
  summary: FileSummary;
  findings: Finding[];
  parsed: boolean;
}

/** Findings one rule may report per file: enough to show the pattern, not a wall of repeats. */
const MAX_FINDINGS_PER_RULE = 3;

/**
 * Everything done for one file, in a worker or in-process: triage, parse,
 * collect facts, run the file rules. Never throws for anything in the file:
 * a file that breaks the parser or a rule becomes a finding.
 */
export function analyzeFile(input: FileInput): FileAnalysis {
  return triageFile(input) ?? analyzeInDepth(input);
}

/**
 * The cheap part, done where the file was read: binary check, minified
 * check and the pre-filter. Returns the finished analysis for the files
 * that need no parsing (most of them), or undefined for those that do.
 */
export function triageFile(input: FileInput): FileAnalysis | undefined {
  // A .js file is analyzed as JavaScript whatever its first bytes say:
  // `MZ=1;` is valid JS and must not pass as a Windows binary. A file without
  // a JS extension that an install script runs may be either.
  const binary = /\.(?:c|m)?js$/i.test(input.path) ? undefined : binaryKind(input.bytes);
  const isJavaScript = input.isJavaScript && !input.shellScript && binary === undefined;
  const summary: FileSummary = { path: input.path, size: input.bytes.length, isJavaScript, minified: false, binary };
  if (!isJavaScript && !input.shellScript) return { summary, findings: [], parsed: false };
  summary.minified = looksMinifiedBytes(input.bytes);
  if (!input.installTime && !mayMatterBytes(input.bytes)) return { summary, findings: [], parsed: false };
  return undefined;
}

/** Parse and rules for a file that triage let through. */
export function analyzeInDepth(input: FileInput, depth = 0): FileAnalysis {
  const text = decode(input.bytes);
  const summary: FileSummary = { path: input.path, size: input.bytes.length, isJavaScript: !input.shellScript, minified: looksMinified(text), binary: undefined };
  const findings: Finding[] = [];
  const lines = new LineIndex(text);
  const hostile = (severity: Severity, message: string, line = 0): void => {
    findings.push({ rule: HOSTILE_INPUT_RULE.id, severity: atInstallTime(severity, input.installTime), file: input.path, line, column: 0, message, evidence: excerpt(text.slice(0, 80)) });
  };
  let ast: AstFacts | undefined;
  if (input.shellScript) {
    // Scripts get the rules' text checks (pipes to a shell, downloads, miners, drop hosts).
  } else if (input.bytes.length > SCAN_LIMITS.maxParseBytes) {
    hostile("low", `larger than ${SCAN_LIMITS.maxParseBytes >> 20} MiB: not parsed, text-only checks`);
  } else {
    ast = parseAndCollect(text, hostile);
  }
  const file: FileContext = { path: input.path, text, installTime: input.installTime, ast, lines };
  runRules(file, findings, hostile);
  addLeads(summary, file);
  if (depth < MAX_HIDDEN_DEPTH) analyzeHiddenCode(input, file, depth, summary, findings);
  return { summary, findings, parsed: ast !== undefined };
}

/** Nesting of code hidden in strings that is followed (a base64 payload holding a hex payload). */
const MAX_HIDDEN_DEPTH = 2;
const MAX_HIDDEN_PER_FILE = 4;

/**
 * Code carried as data is analyzed as the file it becomes when it runs.
 * What it does is reported where it hides, together with the hiding
 * itself: encoding code that does something worth reporting is a technique
 * only a payload needs.
 */
function analyzeHiddenCode(input: FileInput, file: FileContext, depth: number, summary: FileSummary, findings: Finding[]): void {
  for (const hidden of hiddenCode(file).slice(0, MAX_HIDDEN_PER_FILE)) {
    const inner = analyzeInDepth({ path: input.path, bytes: Buffer.from(hidden.text, "utf8"), installTime: input.installTime, isJavaScript: true, shellScript: false }, depth + 1);
    const notable = inner.findings.filter((finding) => finding.rule !== HOSTILE_INPUT_RULE.id && severityRank(finding.severity) >= severityRank("medium"));
    const start = (hidden.node as { start?: number } | undefined)?.start ?? hidden.offset ?? 0;
    const { line, column } = file.lines.position(start);
    if (notable.length === 0) {
      // A payload cut short or too small to judge, still carried encoded
      // into a file that evaluates code built at run time.
      if (hidden.encoded && evaluatesBuiltCode(file)) {
        findings.push({ rule: "obfuscation", severity: atInstallTime("high", input.installTime), file: input.path, line, column, message: `carries code encoded as ${hidden.how} and evaluates code built at run time`, evidence: excerpt(hidden.text) });
      }
      continue;
    }
    findings.push(...notable.map((finding) => ({ ...finding, line, column, message: `${finding.message} (in code hidden in ${hidden.how})` })));
    findings.push({ rule: "obfuscation", severity: atInstallTime("high", input.installTime), file: input.path, line, column, message: `hides code in ${hidden.how}`, evidence: excerpt(hidden.text) });
    summary.collector ??= inner.summary.collector;
    summary.secret ??= inner.summary.secret;
    summary.secretKind ??= inner.summary.secretKind;
    summary.network ||= inner.summary.network;
    if (inner.summary.launches) summary.launches = [...(summary.launches ?? []), ...inner.summary.launches];
  }
}

/** What the package-wide rules need from this file (collector-and-secrets, native-binary). */
function addLeads(summary: FileSummary, file: FileContext): void {
  const leads = exfiltrationLeads(file);
  if (leads.collector !== undefined) summary.collector = excerpt(leads.collector);
  if (leads.secret !== undefined) summary.secret = excerpt(leads.secret);
  if (leads.secretKind !== undefined) summary.secretKind = leads.secretKind;
  const requires = file.ast?.modules.filter((module) => module.startsWith(".")).slice(0, 50) ?? [];
  if (requires.length > 0) summary.requires = requires;
  const launches = launchedNames(file);
  if (launches.length > 0) summary.launches = launches;
  if (networkCalls(file).length > 0 || downloadCommands(file).length > 0 || dnsCommands(file).length > 0) summary.network = true;
}

function decode(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

function parseAndCollect(text: string, hostile: (severity: Severity, message: string, line?: number) => void): AstFacts | undefined {
  let program: ESTree.Program;
  try {
    program = parse(text);
  } catch (error) {
    if (error instanceof RangeError) hostile("medium", "nested too deeply to parse (built to overflow analyzers): text-only checks");
    else hostile("info", `does not parse as JavaScript (${error instanceof Error ? error.message.slice(0, 120) : "unknown error"}): text-only checks`, lineOf(error));
    return undefined;
  }
  try {
    return collectFacts(program);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    hostile("medium", "nested too deeply to analyze: text-only checks");
    return undefined;
  }
}

/** Scripts first (CommonJS, with top-level return), then modules; both with Annex B (web) syntax. */
function parse(text: string): ESTree.Program {
  const options = { next: true, webcompat: true, ranges: true, validateRegex: false } as const;
  try {
    return parseScript(text, { ...options, globalReturn: true });
  } catch (error) {
    if (error instanceof RangeError) throw error;
    return parseModule(text, options);
  }
}

function runRules(file: FileContext, findings: Finding[], hostile: (severity: Severity, message: string) => void): void {
  for (const rule of FILE_RULES) {
    const own: Finding[] = [];
    try {
      rule.check(file, (draft) => {
        if (own.length < MAX_FINDINGS_PER_RULE) own.push(toFinding(rule.id, file, draft));
      });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      hostile("medium", `nested too deeply for rule ${rule.id}`);
    }
    findings.push(...own);
  }
}

function toFinding(rule: string, file: FileContext, draft: FileFindingDraft): Finding {
  const range = draft.node as { start?: number; end?: number } | undefined;
  const start = range?.start ?? draft.offset;
  const end = range?.end ?? (start === undefined ? undefined : start + SCAN_LIMITS.maxEvidenceChars);
  const { line, column } = start === undefined ? { line: 0, column: 0 } : file.lines.position(start);
  const evidence = draft.evidence ?? (start === undefined ? "" : file.text.slice(start, Math.min(end!, start + 4 * SCAN_LIMITS.maxEvidenceChars)));
  return { rule, severity: draft.severity, file: file.path, line, column, message: draft.message, evidence: excerpt(evidence) };
}

function lineOf(error: unknown): number {
  const line = (error as { line?: unknown }).line;
  return typeof line === "number" ? line : 0;
}

/** Long lines are what minifiers produce; readable code averages well under 100 characters a line. */
export function looksMinified(text: string): boolean {
  if (text.length < 2048) return false;
  let lines = 1;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) lines++;
  return text.length / lines > 300;
}

/**
 * looksMinified on the bytes as read, nothing decoded. Counting stops as
 * soon as there are too many lines for a minified file, so readable files
 * cost a fraction of their newlines.
 */
export function looksMinifiedBytes(bytes: Uint8Array): boolean {
  if (bytes.length < 2048) return false;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const enough = bytes.length / 300;
  let lines = 1;
  for (let at = buffer.indexOf(10); at !== -1 && lines < enough; at = buffer.indexOf(10, at + 1)) lines++;
  return lines < enough;
}

export function binaryKind(bytes: Uint8Array): string | undefined {
  if (bytes.length < 4) return undefined;
  const [a, b, c, d] = bytes as unknown as [number, number, number, number];
  if (a === 0x7f && b === 0x45 && c === 0x4c && d === 0x46) return "elf";
  if (a === 0x4d && b === 0x5a && isPortableExecutable(bytes)) return "pe";
  const magic = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  if ([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic)) return "mach-o";
  return undefined;
}

function isPortableExecutable(bytes: Uint8Array): boolean {
  if (bytes.length < 0x40) return false;
  const offset = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(0x3c);
  return offset + 4 <= bytes.length && bytes[offset] === 0x50 && bytes[offset + 1] === 0x45 && bytes[offset + 2] === 0 && bytes[offset + 3] === 0;
}
