throw new Error("cordon eval replica: inert data, never run");
"use strict";

function toHex(rgb) {
  return "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
}

module.exports = { toHex };
