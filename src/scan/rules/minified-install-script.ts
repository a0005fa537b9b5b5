import { packageFinding, type PackageRule } from "./rule.js";

/**
 * A package whose own code is readable but whose install script is one
 * minified blob: the install script was not written by the same hand
 * (Shai-Hulud 1 added a minified bundle.js as postinstall to packages it
 * republished). Packages that ship only built code are not flagged.
 */
export const minifiedInstallScript: PackageRule = {
  id: "minified-install-script",
  summary: "minified or bundled install script in a package whose other code is not",
  check(pkg) {
    const installJs = pkg.files.filter((file) => file.isJavaScript && pkg.installTimeFiles.has(file.path));
    const otherJs = pkg.files.filter((file) => file.isJavaScript && !pkg.installTimeFiles.has(file.path));
    if (otherJs.length === 0 || otherJs.filter((file) => file.minified).length / otherJs.length >= 0.5) return [];
    return installJs.filter((file) => file.minified).map((file) =>
      packageFinding("minified-install-script", "high", "the install script is minified while the rest of the package is not", `${file.path} (${file.size} bytes)`, file.path));
  },
};
