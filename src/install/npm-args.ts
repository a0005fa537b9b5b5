import { createRequire } from "node:module";
import path from "node:path";
import { ConfigError } from "../errors.js";
import { InstallError } from "./errors.js";
import type { NpmFacts } from "./lifecycle-env.js";

/** The user's arguments to `npm install` / `npm ci`, read with npm's own grammar. */
export interface NpmArgs {
  /** Passed to npm as given (flags and package specs), after cordon's own flags were taken out. */
  readonly argv: readonly string[];
  /** Package specs (npm's positional arguments). npm runs the project's own scripts only when there are none. */
  readonly specs: readonly string[];
  /** The settings among them that change where npm finds the project (`--prefix`, `--no-workspaces`), for `npm prefix`. */
  readonly projectArgs: readonly string[];
  /** Set when npm will leave node_modules as it is (`--dry-run`, `--package-lock-only`): no script runs then. */
  readonly treeUnchanged: "--dry-run" | "--package-lock-only" | undefined;
}

type Nopt = (args: string[], options: { types: unknown; shorthands: unknown; typeDefs: unknown }) => Record<string, unknown> & { argv: { remain: string[] } };

/**
 * Reads npm arguments the way the npm that will run them does, with that
 * npm's option table and parser (`@npmcli/config` and `nopt`), so `-D`,
 * `-E`, `-w a`, `--omit dev`, abbreviations and `--` mean what npm makes of
 * them. Unknown flags go to npm unchanged; npm decides what they mean.
 *
 * Refused: settings that would let npm itself run install scripts outside
 * any sandbox, or install somewhere cordon does not inventory.
 */
export function parseNpmArgs(args: readonly string[], npm: NpmFacts): NpmArgs {
  const parsed = npmParser(npm)([...args]);
  if (parsed["ignore-scripts"] === false) {
    throw new ConfigError(`${flagOf(args, "ignore-scripts")}: npm would run every dependency's install scripts itself, outside any sandbox.`, {
      input: flagOf(args, "ignore-scripts"),
      hint: "cordon runs the approved scripts itself, each in its own sandbox; drop the flag.",
    });
  }
  if (parsed.global === true || parsed.location === "global") {
    throw new ConfigError(`${flagOf(args, "global", "location", "g")}: cordon install works on a project; a global install has no lockfile and no policy.`, {
      input: flagOf(args, "global", "location", "g"),
      hint: "Install a command-line tool into a project (cordon install -D TOOL, then npx TOOL), or use npm for global installs.",
    });
  }
  if (parsed.save === false || parsed["package-lock"] === false) {
    const flag = flagOf(args, "save", "package-lock");
    throw new ConfigError(`${flag}: cordon learns what npm installed, and where from, from package-lock.json, which npm would then not update.`, {
      input: flag,
      hint: "Drop the flag (cordon install NAME records the package like npm install NAME does).",
    });
  }
  return {
    argv: [...args],
    specs: parsed.argv.remain,
    projectArgs: [
      ...(typeof parsed.prefix === "string" ? [`--prefix=${parsed.prefix}`] : []),
      ...(parsed.workspaces === false ? ["--no-workspaces"] : []),
    ],
    treeUnchanged: parsed["dry-run"] === true ? "--dry-run" : parsed["package-lock-only"] === true ? "--package-lock-only" : undefined,
  };
}

/** npm's own option parser, loaded from the npm next to this Node. */
function npmParser(npm: NpmFacts): (args: string[]) => ReturnType<Nopt> {
  const npmDir = npm.dir ?? "(npm's folder not found)";
  try {
    const requireFromNpm = createRequire(path.join(npmDir, "package.json"));
    const { definitions, shorthands } = requireFromNpm("@npmcli/config/lib/definitions") as { definitions: unknown; shorthands: unknown };
    const Config = requireFromNpm("@npmcli/config") as { typeDefs: unknown; getTypesFromDefinitions: (d: unknown) => { types: unknown } };
    const nopt = (requireFromNpm("nopt") as { lib: { nopt: Nopt } }).lib.nopt;
    const { types } = Config.getTypesFromDefinitions(definitions);
    return (args) => nopt(args, { types, shorthands, typeDefs: Config.typeDefs });
  } catch (error) {
    throw new InstallError(`Could not load npm's option table from ${npmDir} (npm ${npm.version}) to read the npm flags given.`, {
      hint: "cordon install needs npm 7 or later installed next to node. Check with: npm --version",
      cause: error,
    });
  }
}

/** How the user wrote one of these settings, for the message (`-g`, `--no-save`, `--ignore-scripts=false`). */
function flagOf(args: readonly string[], ...names: string[]): string {
  const written = args.find((arg) => names.some((name) =>
    name.length === 1 ? arg === `-${name}` : arg === `--${name}` || arg === `--no-${name}` || arg.startsWith(`--${name}=`),
  ));
  return written ?? `--${names[0]}`;
}
