import { randomBytes } from "node:crypto";
import { configuredRegistry } from "./registry.js";

/**
 * One planted secret. Its value is random for every observation, so wherever
 * it turns up (a request body, a header, a host name, encoded or not) it
 * can only have come from where it was planted.
 */
export interface Honeytoken {
  /** Stable name of the place it was planted, e.g. "npmrc-token". */
  id: string;
  /** What a person reads in a finding: "the npm token in ~/.npmrc". */
  label: string;
  /** The exact text planted. */
  value: string;
  /**
   * Where sending it is the credential's ordinary use (the npm token to the
   * registry): using it there is reported apart from theft. Suffixes match
   * subdomains: ".amazonaws.com".
   */
  ownHosts: readonly string[];
  /** The same secret written another way a thief converts it to (a Solana key in base58). */
  alsoAs: readonly string[];
}

/** A file of the fake home, relative to it. */
export interface HoneyFile {
  path: string;
  content: string | Buffer;
  mode: number;
}

export interface HoneyPlant {
  tokens: Honeytoken[];
  /** Variables a developer's machine or a CI runner would have. */
  env: Map<string, string>;
  /** The fake home's files: credentials, browser and wallet stores, shell rc files. */
  homeFiles: HoneyFile[];
  /** Files of the fake project the package is installed into (a `.env`). */
  projectFiles: HoneyFile[];
}

export type RandomBytes = (size: number) => Buffer;

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** The registry npm is configured with here: an npm token sent there is use, not theft. */
const npmHosts = (): string[] => [configuredRegistry().host];
const GITHUB_HOSTS = ["github.com", ".github.com", ".githubusercontent.com"];
const AWS_HOSTS = [".amazonaws.com"];

/**
 * Makes the secrets of one observation: a fake developer's home and a CI
 * runner's variables, each value random. Targeted payloads look for exactly
 * these (Shai-Hulud: npm and GitHub tokens, `CI`/`GITHUB_ACTIONS`; the
 * stealers: browser profiles and wallets), so they fire here as they would
 * on a real machine. Values use letters and digits only, so no encoding
 * step can change them in ways the search does not undo.
 */
export function plantHoneytokens(random: RandomBytes = randomBytes): HoneyPlant {
  const text = (length: number): string => base62(random, length);
  const hex = (length: number): string => random(Math.ceil(length / 2)).toString("hex").slice(0, length);
  const tokens: Honeytoken[] = [];
  const token = (id: string, label: string, value: string, ownHosts: readonly string[] = [], alsoAs: readonly string[] = []): string => {
    tokens.push({ id, label, value, ownHosts, alsoAs });
    return value;
  };
  const user = "jmiller";
  const repo = `acme-${hex(4)}/web-${hex(4)}`;

  const env = new Map<string, string>([
    ["NPM_TOKEN", token("env-NPM_TOKEN", "NPM_TOKEN", `npm_${text(36)}`, npmHosts())],
    ["NODE_AUTH_TOKEN", token("env-NODE_AUTH_TOKEN", "NODE_AUTH_TOKEN", `npm_${text(36)}`, npmHosts())],
    ["GITHUB_TOKEN", token("env-GITHUB_TOKEN", "GITHUB_TOKEN", `ghs_${text(36)}`, GITHUB_HOSTS)],
    ["GH_TOKEN", token("env-GH_TOKEN", "GH_TOKEN", `ghp_${text(36)}`, GITHUB_HOSTS)],
    ["AWS_ACCESS_KEY_ID", token("env-AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID", `AKIA${text(16).toUpperCase()}`, AWS_HOSTS)],
    ["AWS_SECRET_ACCESS_KEY", token("env-AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY", text(40), AWS_HOSTS)],
    ["OPENAI_API_KEY", token("env-OPENAI_API_KEY", "OPENAI_API_KEY", `sk-proj-${text(48)}`, ["api.openai.com"])],
    ["ACTIONS_RUNTIME_TOKEN", token("env-ACTIONS_RUNTIME_TOKEN", "ACTIONS_RUNTIME_TOKEN", `eyJ0eXAiOiJKV1Qi${text(64)}`, GITHUB_HOSTS)],
    ["ACTIONS_ID_TOKEN_REQUEST_TOKEN", token("env-ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", `eyJhbGciOiJSUzI1${text(64)}`, GITHUB_HOSTS)],
    // A CI runner, so payloads that wait for one (Shai-Hulud 2, the
    // GitHub Actions cache poisoners) run.
    ["CI", "true"],
    ["GITHUB_ACTIONS", "true"],
    ["GITHUB_REPOSITORY", repo],
    ["GITHUB_REPOSITORY_OWNER", repo.split("/")[0] ?? "acme"],
    ["GITHUB_WORKFLOW", "release"],
    ["GITHUB_EVENT_NAME", "push"],
    ["GITHUB_REF", "refs/heads/main"],
    ["GITHUB_SHA", hex(40)],
    ["GITHUB_RUN_ID", String(7_000_000_000 + random(3).readUIntBE(0, 3))],
    ["GITHUB_SERVER_URL", "https://github.com"],
    ["GITHUB_API_URL", "https://api.github.com"],
    ["GITHUB_ACTOR", user],
    ["RUNNER_OS", "Linux"],
    ["RUNNER_ARCH", "X64"],
    ["ACTIONS_ID_TOKEN_REQUEST_URL", `https://pipelines.actions.githubusercontent.com/${text(40)}/idtoken`],
    ["AWS_DEFAULT_REGION", "us-east-1"],
  ]);

  const npmrc = token("npmrc-token", "the npm token in ~/.npmrc", `npm_${text(36)}`, npmHosts());
  const ghHosts = token("gh-hosts-token", "the GitHub CLI token in ~/.config/gh/hosts.yml", `gho_${text(36)}`, GITHUB_HOSTS);
  const gitCredential = token("git-credentials", "the GitHub token in ~/.git-credentials", `ghp_${text(36)}`, GITHUB_HOSTS);
  const awsKey = token("aws-credentials-key", "the AWS access key in ~/.aws/credentials", `AKIA${text(16).toUpperCase()}`, AWS_HOSTS);
  const awsSecret = token("aws-credentials-secret", "the AWS secret key in ~/.aws/credentials", text(40), AWS_HOSTS);
  const sshKey = token("ssh-private-key", "the SSH private key ~/.ssh/id_rsa", text(64));
  const dockerToken = token("docker-config", "the Docker Hub token in ~/.docker/config.json", `dckr_pat_${text(27)}`, [".docker.io", ".docker.com"]);
  const kubeToken = token("kube-config", "the Kubernetes token in ~/.kube/config", `eyJhbGciOiJSUzI1NiIs${text(60)}`);
  const historySecret = token("shell-history", "a key in ~/.bash_history", `sk_live_${text(40)}`, ["api.stripe.com"]);
  const chromePassword = token("chrome-login-data", "a saved password in Chrome's Login Data", `Pw${text(22)}`);
  const chromeKey = token("chrome-local-state", "Chrome's cookie encryption key (Local State)", text(44));
  const firefoxLogin = token("firefox-logins", "a saved login in Firefox's logins.json", text(48));
  const metamask = token("metamask-vault", "the MetaMask vault (Chrome extension storage)", text(64));
  const exodus = token("exodus-wallet", "the Exodus wallet seed file", text(48));
  const electrum = token("electrum-wallet", "the Electrum wallet's master key", `xprv9s21ZrQH143K${text(95)}`);
  const ethereum = token("ethereum-keystore", "the Ethereum keystore file", hex(64));
  const solanaBytes = random(64);
  const solana = token("solana-keypair", "the Solana keypair ~/.config/solana/id.json", `[${[...solanaBytes].join(",")}]`, [], [base58(solanaBytes), solanaBytes.toString("hex"), solanaBytes.toString("base64")]);
  const discord = token("discord-token", "the Discord token in Local Storage", `${Buffer.from(String(100_000_000_000_000_000n + BigInt(random(6).readUIntBE(0, 6)))).toString("base64").replace(/=+$/, "")}.${text(6)}.${text(38)}`);
  const dotenv = token("project-dotenv", "a secret in the project's .env", `sk_live_${text(40)}`, ["api.stripe.com"]);
  const dbPassword = token("project-dotenv-db", "the database password in the project's .env", text(32));

  const file = (path: string, content: string | Buffer, mode = 0o644): HoneyFile => ({ path, content, mode });
  const profile = `${text(8).toLowerCase()}.default-release`;
  const homeFiles: HoneyFile[] = [
    file(".npmrc", `//${configuredRegistry().host}/:_authToken=${npmrc}\nemail=${user}@acme-corp.com\n`, 0o600),
    file(".gitconfig", `[user]\n\tname = Jordan Miller\n\temail = ${user}@acme-corp.com\n[credential]\n\thelper = store\n`),
    file(".git-credentials", `https://${user}:${gitCredential}@github.com\n`, 0o600),
    file(".config/gh/hosts.yml", `github.com:\n    user: ${user}\n    oauth_token: ${ghHosts}\n    git_protocol: https\n`, 0o600),
    file(".aws/credentials", `[default]\naws_access_key_id = ${awsKey}\naws_secret_access_key = ${awsSecret}\n`, 0o600),
    file(".aws/config", "[default]\nregion = us-east-1\noutput = json\n"),
    file(".ssh/id_rsa", sshPrivateKey(sshKey, random), 0o600),
    file(".ssh/id_rsa.pub", `ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ${text(300)} ${user}@laptop\n`),
    file(".ssh/known_hosts", "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"),
    file(".docker/config.json", JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from(`${user}:${dockerToken}`).toString("base64") } } }, null, 2), 0o600),
    file(".kube/config", `apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.20.0.4:6443\n  name: prod\nusers:\n- name: deployer\n  user:\n    token: ${kubeToken}\n`, 0o600),
    file(".bash_history", `cd ~/src/web\nnpm run build\nexport STRIPE_KEY=${historySecret}\ngit push origin main\n`, 0o600),
    file(".bashrc", "# ~/.bashrc\n[ -z \"$PS1\" ] && return\nalias ll='ls -alF'\nexport PATH=\"$HOME/.local/bin:$PATH\"\n"),
    file(".profile", "# ~/.profile\nif [ -n \"$BASH_VERSION\" ] && [ -f \"$HOME/.bashrc\" ]; then . \"$HOME/.bashrc\"; fi\n"),
    file(".zshrc", "export ZSH=\"$HOME/.oh-my-zsh\"\nplugins=(git)\n"),
    file(".config/google-chrome/Local State", JSON.stringify({ os_crypt: { encrypted_key: Buffer.from(`DPAPI${chromeKey}`).toString("base64") }, profile: { last_used: "Default" } })),
    file(".config/google-chrome/Default/Login Data", sqliteLike(`https://accounts.google.com${user}@gmail.com${chromePassword}`, random), 0o600),
    file(".config/google-chrome/Default/Cookies", sqliteLike(`.github.comuser_session${text(48)}`, random), 0o600),
    file(".config/google-chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn/000003.log",
      `\u0000\u0001KeyringController${JSON.stringify({ vault: JSON.stringify({ data: metamask, iv: text(24), salt: text(44) }) })}`),
    file(".config/BraveSoftware/Brave-Browser/Default/Login Data", sqliteLike(`https://login.live.com${user}@outlook.com${chromePassword}`, random), 0o600),
    file(`.mozilla/firefox/${profile}/logins.json`, JSON.stringify({ nextId: 2, logins: [{ id: 1, hostname: "https://github.com", encryptedUsername: `MDoEEPgAAAAAAAAAAAAAAAAAAAEw${text(20)}`, encryptedPassword: firefoxLogin }] })),
    file(`.mozilla/firefox/${profile}/key4.db`, sqliteLike(text(64), random)),
    file(".mozilla/firefox/profiles.ini", `[Profile0]\nName=default-release\nIsRelative=1\nPath=${profile}\nDefault=1\n`),
    file(".config/Exodus/exodus.wallet/seed.seco", Buffer.concat([Buffer.from("SECO"), random(32), Buffer.from(exodus), random(32)]), 0o600),
    file(".electrum/wallets/default_wallet", JSON.stringify({ keystore: { type: "bip32", xprv: electrum, xpub: `xpub661MyMwAqRbc${text(95)}` }, wallet_type: "standard" }), 0o600),
    file(`.ethereum/keystore/UTC--2024-03-02T10-11-12.000Z--${hex(40)}`, JSON.stringify({ version: 3, crypto: { cipher: "aes-128-ctr", ciphertext: ethereum, kdf: "scrypt" } }), 0o600),
    file(".config/solana/id.json", solana, 0o600),
    file(".config/discord/Local Storage/leveldb/000005.ldb", `\u0000_https://discord.com\u0000\u0001token\u0001"${discord}"`),
  ];
  const projectFiles: HoneyFile[] = [
    file(".env", `NODE_ENV=production\nSTRIPE_SECRET_KEY=${dotenv}\nDATABASE_URL=postgres://app:${dbPassword}@db.internal:5432/app\n`, 0o600),
  ];
  return { tokens, env, homeFiles, projectFiles };
}

function base62(random: RandomBytes, length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of random(length)) {
      // 248 = 4 × 62: bytes above it are dropped so every letter is equally likely.
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Bitcoin's base58, as wallets show a Solana secret key. */
function base58(bytes: Buffer): string {
  let value = BigInt(`0x${bytes.toString("hex") || "0"}`);
  let out = "";
  while (value > 0n) {
    out = (BASE58[Number(value % 58n)] ?? "") + out;
    value /= 58n;
  }
  for (const byte of bytes) {
    if (byte !== 0) break;
    out = `1${out}`;
  }
  return out;
}

/** An OpenSSH private key block whose body carries the marker where a real key's bytes would be. */
function sshPrivateKey(marker: string, random: RandomBytes): string {
  // The marker fills a line of its own, so the file as sent contains it unbroken.
  const rest = random(900).toString("base64").replace(/[+/=]/g, "A").match(/.{1,70}/g) ?? [];
  const lines = ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn", marker, ...rest];
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`;
}

/** Bytes that start like a SQLite database and hold the marker, as Login Data and Cookies would. */
function sqliteLike(marker: string, random: RandomBytes): Buffer {
  return Buffer.concat([Buffer.from("SQLite format 3\u0000"), random(84), Buffer.from(marker), random(64)]);
}
