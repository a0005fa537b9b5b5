import { ruleTable } from "../helpers.js";

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
  ],
  pass: [
    { name: "minified library", code: "!function(e,t){\"object\"==typeof exports?module.exports=t():e.lib=t()}(this,function(){return function(n){return n*2}});" },
    { name: "base64 decoding without eval", code: "const png = Buffer.from(data, 'base64'); const s = atob(token);" },
    { name: "ascii art in a string with spaces", code: `const banner = "hello${" ".repeat(200)}world";` },
    { name: "a parser that mentions eval and fromCharCode", code: "if (name === 'eval') raise('bad'); const ch = String.fromCharCode(code);" },
  ],
});
