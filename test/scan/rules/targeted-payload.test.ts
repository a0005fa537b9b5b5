import { ruleTable } from "../helpers.js";

ruleTable("targeted-payload", {
  fail: [
    {
      name: "decipher keyed by npm_package_description",
      code: "const crypto = require('crypto'); const d = crypto.createDecipher('aes256', process.env.npm_package_description); const src = d.update(blob, 'hex', 'utf8') + d.final('utf8'); const m = new module.constructor(); m._compile(src, '');",
      atLeast: "critical",
    },
    {
      name: "event-stream shape with aliased require and process",
      code: "var r = require, t = process; var o = t.env.npm_package_description; var u = r('crypto').createDecipher('aes256', o), a = u.update(n[0], 'hex', 'utf8'); var f = new module.constructor; f._compile(a, '');",
      atLeast: "critical",
    },
    {
      name: "decrypted payload appended to another package's source (flatmap-stream's first stage)",
      code: "throw 0; module.exports = function (e) { var t = process.env.npm_package_description, r = require('fs'), i = './node_modules/@scope/lib/core/decoder.js', c = r.readFileSync(i, 'utf8'), o = require('crypto').createDecipher('aes256', t), s = o.update(e, 'hex', 'utf8'); s += o.final('utf8'); r.writeFileSync(i, c + s, 'utf8'); };",
      atLeast: "critical",
    },
  ],
  pass: [
    { name: "decrypting a config file", code: "const crypto = require('crypto'); const d = crypto.createDecipheriv('aes-256-gcm', key, iv); const out = d.update(buf);" },
    { name: "reading the package version", code: "const version = process.env.npm_package_version;" },
    { name: "crypto polyfill with a constant eval", code: "const crypto = require('crypto'); crypto.createDecipher('aes256', key); const dir = eval('__dirname');" },
  ],
});
