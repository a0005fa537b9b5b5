import { ruleTable } from "../helpers.js";

ruleTable("geo-targeting", {
  fail: [
    {
      name: "node-ipc peacenotwar shape",
      code: "https.get('https://api.ipgeolocation.io/ipgeo?apiKey=x', (res) => { res.on('data', (d) => { const c = JSON.parse(d).country_name.toLowerCase(); if (c.includes('russia') || c.includes('belarus')) fs.writeFileSync(f, '❤️'); }); });",
      atLeast: "critical",
    },
    { name: "time-zone check then delete", code: "const tz = Intl.DateTimeFormat().resolvedOptions().timeZone; if (tz === 'Europe/Moscow') fs.rmSync(dir, { recursive: true });", atLeast: "high" },
  ],
  pass: [
    { name: "date library with zone names", code: "const zones = ['Europe/Moscow', 'Europe/Paris']; const f = new Intl.DateTimeFormat('en', { timeZone: zones[0] });" },
    { name: "country list", code: "const countries = { RU: 'Russia', BY: 'Belarus', FR: 'France' };" },
    { name: "language tag in a bundle with a geolocation mention far away", code: `const langs = ['ru', 'en'];${"\n// padding".repeat(300)}\nconst GEO = 'https://ipapi.co/json'; fs.writeFileSync(out, data); https.get(GEO, cb);` },
  ],
});
