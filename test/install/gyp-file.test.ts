import assert from "node:assert/strict";
import { test } from "node:test";
import { scanGyp } from "../../src/install/gyp-file.js";
import { installOrder } from "../../src/install/install-order.js";
import { simpleCommands } from "../../src/install/script-command.js";
import { unifiedDiff } from "../../src/install/unified-diff.js";

test("gyp: comments, both quotes, triple quotes, adjacent literals, trailing commas", () => {
  const scan = scanGyp(`# '<!(in comment)'
{
  "variables": { 'a': 'x' 'y', },
  'cflags': ['<!@(pkg-config --cflags "gtk")', """<!(echo 'tri')""",],
  'deps': ["<!pymod_do_main(foo bar)", '>!(late)'],
  'split': ['<' '!(node joined.js)'],
}`);
  const commands = scan.commands.map((c) => `${c.expansion} ${c.command}`);
  assert.ok(commands.includes(`<!@ pkg-config --cflags "gtk"`));
  assert.ok(commands.includes("<! echo 'tri'"));
  assert.ok(commands.includes("<!pymod_do_main foo bar"));
  assert.ok(commands.includes(">! late"));
  assert.ok(commands.includes("<! node joined.js"), "adjacent Python literals are joined before looking for expansions");
  assert.ok(scan.strings.includes("xy"));
  assert.equal(scan.malformed, false);
  assert.equal(commands.filter((c) => c.includes("in comment")).length <= 1, true);
});

test("gyp: an unterminated string is flagged, and expansions in it are still found", () => {
  const scan = scanGyp("{ 'x': '<!(node a.js) ");
  assert.equal(scan.malformed, true);
  assert.ok(scan.commands.some((c) => c.command === "node a.js"));
});

test("shell reading: operators, quotes, assignments, env prefixes", () => {
  assert.deepEqual(simpleCommands(`FOO=1 node "in stall.js" && env A=b sh -c 'x y' || exit 0; cross-env X=1 node-gyp rebuild`).map((c) => c.words), [
    ["node", "in stall.js"], ["sh", "-c", "x y"], ["exit", "0"], ["node-gyp", "rebuild"],
  ]);
});

test("install order: cycles come out together, by location, the same every time", () => {
  const edges = new Map<string, string[]>([
    ["a", ["b"]], ["b", ["c"]], ["c", ["a", "d"]], ["d", []], ["e", ["a"]],
  ]);
  assert.deepEqual(installOrder(edges), ["d", "a", "b", "c", "e"]);
  const deep = new Map<string, string[]>(Array.from({ length: 50_000 }, (_, i) => [`p${i}`, i + 1 < 50_000 ? [`p${i + 1}`] : []]));
  const order = installOrder(deep);
  assert.equal(order[0], "p49999", "a 50,000-deep chain does not overflow the stack");
});

test("unified diff: hunks with context; binary and huge inputs summarized", () => {
  const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const after = before.replace("line 10\n", "line ten\n");
  assert.equal(unifiedDiff("a", "b", before, after), "--- a\n+++ b\n@@ -8,7 +8,7 @@\n line 7\n line 8\n line 9\n-line 10\n+line ten\n line 11\n line 12\n line 13\n");
  assert.equal(unifiedDiff("a", "b", undefined, "x\n"), "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+x\n");
  assert.match(unifiedDiff("a", "b", "x\0y", "z"), /binary file changed/);
  const big = "x\n".repeat(3000);
  assert.match(unifiedDiff("a", "b", big, big + "y\n".repeat(2000)), /too large to diff/);
});
