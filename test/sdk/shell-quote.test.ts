import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { quoteInterpolation, quoteShellWord } from "../../src/sdk/shell-quote.js";

const HOSTILE = ["", "a b", "it's", "$(touch /tmp/pwned)", "`id`", "; rm -rf ~", "a\nb", "*", "-n", "\\", "'\"'\"'", "${HOME}", "😀 ünïcode", "--", "a'b'c"];

describe("sh escaping: every interpolated value is exactly one word", () => {
  for (const value of HOSTILE) {
    it(`round-trips ${JSON.stringify(value)} through dash unchanged`, () => {
      const out = execFileSync("/bin/sh", ["-c", `printf '%s\\0' ${quoteShellWord(value)}`]).toString();
      assert.equal(out, `${value}\0`);
    });
  }

  it("turns an array into several words, each escaped", () => {
    const out = execFileSync("/bin/sh", ["-c", `printf '[%s]' ${quoteInterpolation(["a b", "$x", "c"])}`]).toString();
    assert.equal(out, "[a b][$x][c]");
  });

  it("refuses a NUL byte instead of truncating the word", () => {
    assert.throws(() => quoteShellWord("a\0b"), TypeError);
  });
});
