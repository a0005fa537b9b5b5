import assert from "node:assert/strict";
import { test } from "node:test";
import { parseNetGrant } from "../../src/policy/net-grant.js";

test("accepted forms are normalized", () => {
  assert.deepEqual(parseNetGrant("API.Example.COM."), { kind: "host", host: "api.example.com", port: undefined });
  assert.deepEqual(parseNetGrant("api.other.dev:8443"), { kind: "host", host: "api.other.dev", port: 8443 });
  assert.deepEqual(parseNetGrant("*.example.com"), { kind: "wildcard", suffix: "example.com", port: undefined });
  assert.deepEqual(parseNetGrant("203.0.113.7"), { kind: "ip", address: "203.0.113.7", family: 4, port: undefined });
  assert.deepEqual(parseNetGrant("[::1]:3000"), { kind: "ip", address: "::1", family: 6, port: 3000 });
  assert.deepEqual(parseNetGrant("[::ffff:127.0.0.1]"), { kind: "ip", address: "127.0.0.1", family: 4, port: undefined });
  assert.deepEqual(parseNetGrant("[2001:DB8:0:0::1]"), { kind: "ip", address: "2001:db8::1", family: 6, port: undefined });
  assert.deepEqual(parseNetGrant("bücher.example"), { kind: "host", host: "xn--bcher-kva.example", port: undefined });
});

test("bad grants name the entry and list the accepted forms", () => {
  const cases: [string, RegExp][] = [
    ["*.com", /whole top-level domain/],
    ["*", /every host/],
    ["https://api.example.com", /URL/],
    ["api.example.com/v1", /URL or a path/],
    ["api.example.com:0", /outside 1-65535/],
    ["api.example.com:65536", /outside 1-65535/],
    ["api.example.com:http", /not a number/],
    ["", /is empty/],
    ["::1", /IPv6 address without brackets/],
    ["a*.example.com", /leading \*\. label/],
    ["bad_host!.com", /not a valid host name/],
  ];
  for (const [entry, rule] of cases) {
    assert.throws(() => parseNetGrant(entry), (e: Error & { hint?: string }) => {
      assert.match(e.message, rule, entry);
      assert.ok(e.message.includes(`"${entry}"`));
      assert.match(e.hint ?? "", /Accepted forms/);
      return true;
    });
  }
});
