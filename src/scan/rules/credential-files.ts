import type { Node } from "../ast/walk.js";
import { atInstallTime, type FileContext, type FileRule } from "./rule.js";
import type { Severity } from "../types.js";

interface CredentialPath {
  what: string;
  pattern: RegExp;
  severity: Severity;
  /**
   * Stores that no package has a reason to read: browser password and
   * cookie databases, Discord's token storage, wallets. Tools read `.npmrc`
   * or `.aws/credentials` to do their job; only a stealer reads these.
   */
  stealerOnly?: boolean;
}

/**
 * Paths of files that hold credentials. npm tooling reads `.npmrc` and
 * dotenv reads `.env` every day, so those weigh little alone; they count
 * when combined with a network sink (see exfiltration).
 */
const CREDENTIAL_PATHS: CredentialPath[] = [
  { what: "npm token file", pattern: /(?:^|[\\/~])\.npmrc$/, severity: "low" },
  { what: "SSH keys", pattern: /(?:^|[\\/~])\.ssh(?:[\\/]|$)|(?:^|[\\/])id_(?:rsa|ed25519|ecdsa|dsa)$/, severity: "medium" },
  { what: "AWS credentials", pattern: /\.aws[\\/](?:credentials|config)$/, severity: "medium" },
  { what: "GitHub CLI token", pattern: /\.config[\\/]gh(?:[\\/]hosts\.yml)?$/, severity: "medium" },
  { what: "Docker registry credentials", pattern: /\.docker[\\/]config\.json$/, severity: "medium" },
  { what: "Kubernetes credentials", pattern: /\.kube[\\/]config$/, severity: "medium" },
  { what: "git credentials", pattern: /(?:^|[\\/~])\.(?:git-credentials|netrc)$/, severity: "medium" },
  { what: "Google Cloud credentials", pattern: /gcloud[\\/](?:credentials\.db|application_default_credentials\.json)$/, severity: "medium" },
  {
    what: "browser profile",
    pattern: /Google[\\/]Chrome[\\/]User Data|BraveSoftware[\\/]Brave-Browser[\\/]User Data|Microsoft[\\/]Edge[\\/]User Data|Yandex[\\/]YandexBrowser[\\/]User Data|Opera Software[\\/]Opera (?:GX )?Stable|\.mozilla[\\/]firefox|Mozilla[\\/]Firefox[\\/]Profiles|Login Data$|Local Extension Settings|Web Data$|Local State$|User Data[\\/](?:Default|Profile \d+)[\\/](?:Network[\\/])?Cookies$|(?:^|[\\/])(?:logins\.json|key4\.db|cookies\.sqlite)$/,
    severity: "medium", stealerOnly: true,
  },
  { what: "browser or Discord local storage (session tokens)", pattern: /Local Storage[\\/]leveldb|(?:AppData|Roaming|Application Support|\.config)[\\/]+(?:discord(?:canary|ptb|development)?|Lightcord)(?:[\\/]|$)|discord_desktop_core/i, severity: "medium", stealerOnly: true },
  { what: "crypto wallet", pattern: /wallet\.dat$|\.electrum|[\\/]Exodus|\.ethereum[\\/]keystore|nkbihfbeogaeaoehlefnkodbefgpgknn|bfnaelmomeimhlpmgjnjophhpkkoljpa|fhbohimaelbohpjbbldcngcnapndodjp|hnfanknocfeofbddgcijnmhnfnkdnaad|ibnejdfjmmkpcnlpebklmnkoeoihofec|egjidjbpglichdcondbcbdnbeeppgdph|[\\/]atomic[\\/]Local Storage|solana[\\/]id\.json$/i, severity: "medium", stealerOnly: true },
  { what: "system password hashes", pattern: /^\/etc\/shadow$/, severity: "medium", stealerOnly: true },
  { what: "the system's user list", pattern: /^\/etc\/passwd$/, severity: "low" },
  { what: "shell history", pattern: /(?:^|[\\/~])\.(?:bash|zsh|sh)_history$/, severity: "medium" },
  { what: "dotenv file", pattern: /^(?:[\\/~.]*[\\/])?\.env$/, severity: "info" },
];

export const credentialFiles: FileRule = {
  id: "credential-files",
  summary: "names files that hold credentials (SSH keys, cloud and npm tokens, browser profiles, wallets)",
  check(file, report) {
    for (const { site, path } of credentialReads(file)) {
      report({ severity: atInstallTime(path.severity, file.installTime), message: `refers to ${path.what}`, node: site });
    }
    const tokenSearch = discordTokenSearch(file);
    if (tokenSearch !== undefined) report({ severity: atInstallTime("medium", file.installTime), message: "searches text for Discord session tokens", offset: tokenSearch });
  },
};

/**
 * The shape of a Discord token (`[\w-]{24}.[\w-]{6}.[\w-]{27}`, `mfa.[\w-]{84}`) written as a
 * regular expression: what token grabbers scan leveldb files with.
 */
const DISCORD_TOKEN_PATTERN = /\{2[34]\}\\\.\[\\w-?\]\{6\}\\\.\[\\w-?\]\{2[57]|mfa\\\.\[\\w-?\]\{84\}/;

export function discordTokenSearch(file: FileContext): number | undefined {
  const match = DISCORD_TOKEN_PATTERN.exec(file.text);
  return match?.index;
}

export function credentialReads(file: FileContext): Array<{ site: Node; path: CredentialPath }> {
  const ast = file.ast;
  if (!ast) return [];
  return ast.memo("credentialReads", () => {
    const found: Array<{ site: Node; path: CredentialPath }> = [];
    for (const site of ast.strings) {
      if (site.value.length > 300) continue;
      const path = CREDENTIAL_PATHS.find((candidate) => candidate.pattern.test(site.value.trim()));
      if (path) found.push({ site: site.node, path });
    }
    return found;
  });
}

/** Stores only a stealer reads (see CredentialPath.stealerOnly), and token searches. */
export function stealerReads(file: FileContext): Node[] {
  return credentialReads(file).filter(({ path }) => path.stealerOnly === true).map(({ site }) => site);
}

/** Credential reads that matter for exfiltration: everything but dotenv. */
export function strongCredentialReads(file: FileContext): Node[] {
  return credentialReads(file).filter(({ path }) => path.severity !== "info").map(({ site }) => site);
}
