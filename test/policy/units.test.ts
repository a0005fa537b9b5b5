import assert from "node:assert/strict";
import { test } from "node:test";
import { parseCount, parseDuration, parseSize } from "../../src/policy/units.js";

test("durations: units, bare seconds and rejects", () => {
  assert.equal(parseDuration("250ms", "--timeout"), 250);
  assert.equal(parseDuration("10s", "--timeout"), 10_000);
  assert.equal(parseDuration("10", "--timeout"), 10_000);
  assert.equal(parseDuration("1.5m", "--timeout"), 90_000);
  assert.equal(parseDuration("1h", "--timeout"), 3_600_000);
  for (const bad of ["", "0", "-1s", "10 bananas", "1d", "s", "NaN"]) {
    assert.throws(() => parseDuration(bad, "--timeout"), /--timeout: ".*" is not a duration/, bad);
  }
});

test("sizes: binary units and rejects", () => {
  assert.equal(parseSize("512M", "--memory"), 512 * 1024 ** 2);
  assert.equal(parseSize("1GiB", "--memory"), 1024 ** 3);
  assert.equal(parseSize("64k", "--memory"), 65536);
  assert.equal(parseSize(4096, "--memory"), 4096);
  for (const bad of ["2 bananas", "0", "-5M", "1.2.3G", "", "12XB"]) {
    assert.throws(() => parseSize(bad, "--memory"), /is not a size/, bad);
  }
});

test("counts", () => {
  assert.equal(parseCount("256", "--pids"), 256);
  assert.throws(() => parseCount("0", "--pids"), /positive whole number/);
  assert.throws(() => parseCount("1e3", "--pids"), /positive whole number/);
});
