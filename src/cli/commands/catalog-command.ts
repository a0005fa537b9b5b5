import { sanitizeForTerminal } from "../terminal.js";

/** What `cordon snapshot` and `cordon volume` list, create and remove. */
export interface Catalog {
  kind: "snapshot" | "volume";
  help: string;
  headers: string[];
  list(): Promise<string[][]>;
  empty(): string;
  create?(name: string): void;
  remove(name: string): Promise<void>;
}

/** `cordon snapshot|volume ls|rm [create]`: one shape for both catalogs. */
export function catalogCommand(catalog: Catalog): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const [action, ...names] = argv;
    switch (action) {
      case "ls": case "list": {
        const rows = await catalog.list();
        if (rows.length === 0) process.stdout.write(`${catalog.empty()}\n`);
        else printTable(catalog.headers, rows);
        return 0;
      }
      case "create": {
        if (!catalog.create || names.length !== 1) return usage(catalog);
        catalog.create(names[0]!);
        process.stdout.write(`Created ${catalog.kind} ${names[0]}.\n`);
        return 0;
      }
      case "rm": case "remove": {
        if (names.length === 0) return usage(catalog);
        for (const name of names) {
          await catalog.remove(name);
          process.stdout.write(`Removed ${catalog.kind} ${sanitizeForTerminal(name)}.\n`);
        }
        return 0;
      }
      case "--help": case "help":
        process.stdout.write(catalog.help);
        return 0;
      default:
        return usage(catalog);
    }
  };
}

function usage(catalog: Catalog): number {
  process.stderr.write(catalog.help);
  return 2;
}

function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const row of rows) process.stdout.write(`${sanitizeForTerminal(line(row))}\n`);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
