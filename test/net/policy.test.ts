import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { specialAddressKind } from "../../src/net/address-guard.js";
import { parseAuthority } from "../../src/net/destination.js";
import { BlockedDestinations, type EgressConnectionEvent } from "../../src/net/events.js";
import { findGrant, grantHintFor } from "../../src/net/grant-match.js";
import { proxyEnvironment } from "../../src/net/proxy-env.js";
import { parseNetGrants } from "../../src/policy/net-grant.js";

describe("destinations are parsed strictly", () => {
  it("normalizes names and addresses like grants", () => {
    assert.deepEqual(parseAuthority("API.Example.COM.:443", undefined), { kind: "name", host: "api.example.com", port: 443 });
    assert.deepEqual(parseAuthority("[::FFFF:127.0.0.1]:80", undefined), { kind: "ip", address: "127.0.0.1", family: 4, port: 80 });
    assert.deepEqual(parseAuthority("example.com", 80), { kind: "name", host: "example.com", port: 80 });
  });
  it("refuses numeric shorthands, user info, missing ports and port 0", () => {
    for (const text of ["127.1:80", "0x7f.0.0.1:80", "2130706433:80", "user@example.com:80", "example.com", "example.com:0",
      "example.com:65536", "[example.com]:80", "[::1:80", "exa mple.com:80", "example.com:80:80", "%65xample.com:80"]) {
      assert.equal(parseAuthority(text, undefined), undefined, text);
    }
  });
});

describe("grants match like Deno's --allow-net", () => {
  const grants = parseNetGrants(["api.example.com", "*.example.org", "other.dev:8443", "203.0.113.7", "[2001:db8::1]:443"]);
  const allowed = (text: string): boolean => {
    const destination = parseAuthority(text, undefined);
    assert.ok(destination, text);
    return findGrant(grants, destination) !== undefined;
  };
  it("a grant without a port allows every port", () => {
    assert.ok(allowed("api.example.com:443"));
    assert.ok(allowed("api.example.com:22"));
  });
  it("a grant with a port allows only that port", () => {
    assert.ok(allowed("other.dev:8443"));
    assert.ok(!allowed("other.dev:443"));
  });
  it("a wildcard covers subdomains, not the domain itself nor look-alikes", () => {
    assert.ok(allowed("a.example.org:443"));
    assert.ok(allowed("a.b.example.org:443"));
    assert.ok(!allowed("example.org:443"));
    assert.ok(!allowed("evilexample.org:443"));
  });
  it("an address grant is not a name grant, and a name grant is not an address grant", () => {
    assert.ok(allowed("203.0.113.7:80"));
    assert.ok(!allowed("203.0.113.8:80"));
    assert.ok(allowed("[2001:db8:0::1]:443"));
    assert.ok(!allowed("[2001:db8::1]:80"));
  });
  it("no grant allows nothing", () => {
    const destination = parseAuthority("example.com:443", undefined);
    assert.ok(destination);
    assert.equal(findGrant([], destination), undefined);
  });
  it("hints name the host, with the port only when the user scopes that host by port", () => {
    assert.equal(grantHintFor(grants, parseAuthority("evil.example:443", undefined)!), "--allow-net=evil.example");
    assert.equal(grantHintFor(grants, parseAuthority("other.dev:443", undefined)!), "--allow-net=other.dev:443");
    assert.equal(grantHintFor(grants, parseAuthority("[::1]:80", undefined)!), "--allow-net=[::1]");
  });
});

describe("special addresses for the DNS-rebinding guard", () => {
  const cases: Array<[string, 4 | 6, string | undefined]> = [
    ["127.0.0.1", 4, "loopback"], ["127.255.0.9", 4, "loopback"], ["::1", 6, "loopback"],
    ["10.1.2.3", 4, "private"], ["172.20.0.1", 4, "private"], ["192.168.1.1", 4, "private"], ["fd12::1", 6, "private"],
    ["169.254.169.254", 4, "cloud metadata"], ["fd00:ec2::254", 6, "cloud metadata"], ["168.63.129.16", 4, "cloud metadata"],
    ["169.254.1.1", 4, "link-local"], ["fe80::1", 6, "link-local"], ["100.64.0.1", 4, "carrier-grade NAT"],
    ["0.0.0.0", 4, "unspecified"], ["::", 6, "unspecified"], ["224.0.0.1", 4, "multicast"], ["255.255.255.255", 4, "reserved"],
    ["64:ff9b::7f00:1", 6, "loopback"], ["2002:a9fe:a9fe::", 6, "cloud metadata"], ["2001:0:1::1", 6, "IPv6 transition"],
    ["93.184.216.34", 4, undefined], ["2606:4700::1111", 6, undefined], ["172.32.0.1", 4, undefined],
  ];
  for (const [address, family, kind] of cases) {
    it(`${address} is ${kind ?? "public"}`, () => assert.equal(specialAddressKind(address, family), kind));
  }
});

describe("blocked destinations are reported once each", () => {
  it("de-duplicates and names the grant", () => {
    const reporter = new BlockedDestinations();
    const event: EgressConnectionEvent = {
      type: "blocked", protocol: "http-connect", host: "evil.example", port: 443, bytesUp: 0, bytesDown: 0,
      durationMs: 1, startedAt: 0, reason: "not granted", grantHint: "--allow-net=evil.example",
    };
    assert.equal(reporter.report(event), "cordon: blocked evil.example:443 — allow with --allow-net=evil.example");
    assert.equal(reporter.report({ ...event, durationMs: 2 }), undefined);
    assert.equal(reporter.report({ ...event, type: "allowed" }), undefined);
    assert.ok(reporter.report({ ...event, port: 80 }));
    assert.deepEqual(reporter.destinations, ["evil.example:443", "evil.example:80"]);
  });
});

describe("proxyEnvironment", () => {
  it("points every convention at the proxy and keeps the sandbox's own loopback direct", () => {
    const env = proxyEnvironment(3128, { nodePreload: "/opt/cordon/preload.cjs" });
    for (const name of ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "npm_config_proxy", "npm_config_https_proxy"]) {
      assert.equal(env.get(name), "http://127.0.0.1:3128", name);
    }
    assert.equal(env.get("ALL_PROXY"), "socks5h://127.0.0.1:3128");
    assert.equal(env.get("all_proxy"), "socks5h://127.0.0.1:3128");
    assert.equal(env.get("NO_PROXY"), "localhost,127.0.0.1,::1");
    assert.equal(env.get("no_proxy"), "localhost,127.0.0.1,::1");
    assert.equal(env.get("NODE_USE_ENV_PROXY"), "1");
    assert.equal(env.get("NODE_OPTIONS"), "--require /opt/cordon/preload.cjs");
  });
});
