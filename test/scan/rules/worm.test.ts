import { ruleTable } from "../helpers.js";

ruleTable("worm", {
  fail: [
    { name: "publish with stolen token", code: "const { execSync } = require('child_process'); execSync('npm publish --access public', { cwd: dir });", atLeast: "high" },
    { name: "trufflehog + github repo", code: "download('https://github.com/trufflesecurity/trufflehog/releases'); post('https://api.github.com/user/repos', { name: 'Shai-Hulud' });", atLeast: "critical" },
    { name: "bun installer", code: "const url = 'https://bun.sh/install';", installTime: true, atLeast: "critical" },
    { name: "workflow writer", code: "fs.writeFileSync('.github/workflows/shai-hulud-workflow.yml', yml);", atLeast: "medium" },
  ],
  pass: [
    { name: "release tool help text", code: "console.log('Run npm publish when ready.');" },
    { name: "GitHub API for issues", code: "fetch('https://api.github.com/repos/' + repo + '/issues');" },
    { name: "bundler mentions bun", code: "const isBun = typeof Bun !== 'undefined';" },
  ],
});
