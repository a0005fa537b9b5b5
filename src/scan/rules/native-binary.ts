import { packageFinding, type PackageRule } from "./rule.js";
import type { Finding } from "../types.js";

/**
 * Prebuilt executables and libraries cannot be read by this scanner. Many
 * good packages ship them (esbuild, sharp's platform packages), so they are
 * listed for review, and weigh more when an install script runs one directly.
 */
export const nativeBinary: PackageRule = {
  id: "native-binary",
  summary: "bundled native executables or libraries (ELF, PE, Mach-O)",
  check(pkg) {
    const binaries = pkg.files.filter((file) => file.binary !== undefined);
    if (binaries.length === 0) return [];
    const findings: Finding[] = [packageFinding(
      "native-binary", "info", `ships ${binaries.length} native binar${binaries.length === 1 ? "y" : "ies"} this scanner cannot read`,
      binaries.slice(0, 3).map((file) => `${file.path} (${file.binary})`).join(", "), binaries[0]!.path,
    )];
    for (const file of binaries.filter((candidate) => pkg.installTimeFiles.has(candidate.path))) {
      findings.push(packageFinding("native-binary", "medium", "an install script runs a bundled native binary", file.path, file.path));
    }
    return findings;
  },
};
