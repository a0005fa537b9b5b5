import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NeedleSet } from "../../src/scan/needles.js";

describe("NeedleSet (the pre-filter's automaton)", () => {
  const groups = { a: ["he", "she", "his", "hers"], b: ["_0x"], c: ["ushe", "x"] };
  const set = new NeedleSet(groups);
  const naive = (text: string): number =>
    Object.entries(groups).reduce((bits, [name, words]) => (words.some((word) => text.includes(word)) ? bits | set.bit(name as keyof typeof groups) : bits), 0);

  it("finds overlapping needles and needles inside others", () => {
    assert.equal(set.scan(Buffer.from("ushers")), set.bit("a") | set.bit("c"));
    assert.equal(set.scan(Buffer.from("ahishe")), set.bit("a"));
    assert.equal(set.scan(Buffer.from("nothing")), 0);
  });

  it("agrees with a naive search on random text", () => {
    const alphabet = "hersiux_0 ";
    let seed = 42;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 2000; round++) {
      const text = Array.from({ length: 1 + Math.floor(random() * 24) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      assert.equal(set.scan(Buffer.from(text)), naive(text), JSON.stringify(text));
    }
  });

  it("refuses needles that are not ASCII", () => {
    assert.throws(() => new NeedleSet({ a: ["é"] }), /not ASCII/);
  });
});
