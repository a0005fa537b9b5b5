/**
 * The relative modules a JavaScript file loads with a literal specifier:
 * `require("./x")`, `import "./x"`, `import … from "./x"`, `export … from "./x"`,
 * `import("./x")`. A pin covers them as well as the file a script names, so an
 * install script cannot stay byte-identical while the helper it loads changes.
 * `dynamic` reports loads whose specifier is computed, which no pin can follow.
 */
export interface JsImports {
  readonly relative: readonly string[];
  readonly dynamic: boolean;
}

const LITERAL_LOAD = /\b(?:require|import)\s*\(\s*(['"`])([^'"`\n]{1,400})\1\s*\)|\b(?:import|export)\b[^;'"`]{0,400}?\bfrom\s*(['"])([^'"\n]{1,400})\3|\bimport\s*(['"])([^'"\n]{1,400})\5/g;
const ANY_LOAD = /\b(?:require|import)\s*\(\s*([^\s)])/g;

export function jsImports(source: string): JsImports {
  const relative = new Set<string>();
  let dynamic = false;
  for (const match of source.matchAll(LITERAL_LOAD)) {
    const specifier = match[2] ?? match[4] ?? match[6] ?? "";
    if (specifier.includes("${")) dynamic = true;
    else if (specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === "..") relative.add(specifier);
  }
  for (const match of source.matchAll(ANY_LOAD)) {
    const first = match[1] ?? "";
    if (first !== "'" && first !== '"' && first !== "`") dynamic = true;
  }
  return { relative: [...relative], dynamic };
}
