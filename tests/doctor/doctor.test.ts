import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startDnsServer, type DnsRecord } from "../helpers/dns-server.js";
import { SAMPLE_FILES } from "../helpers/files.js";
import { project, smtp } from "../helpers/project.js";

/*
 * `papermail doctor` against a DNS server of the test's own: a setup the mailbox
 * providers accept, and one they would not, each fail with its fix.
 */

type Check = { name: string; status: "pass" | "warn" | "fail"; detail: string; fix: string | null };

function dkimKey() {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
  return { pem: privateKey.export({ type: "pkcs8", format: "pem" }) as string, published: publicKey.export({ type: "spki", format: "der" }).toString("base64") };
}

async function doctorProject(zone: Record<string, DnsRecord[]>, key: string) {
  const dns = await startDnsServer(zone);
  const server = await smtp();
  const p = project(server.url);
  const keyFile = join(p.cwd, "dkim.pem");
  writeFileSync(keyFile, key);
  Object.assign(p.env, {
    PAPERMAIL_DNS_SERVERS: dns.address,
    PAPERMAIL_BOUNCE_ADDRESS: "bounces@example.org",
    PAPERMAIL_DKIM_DOMAIN: "example.org",
    PAPERMAIL_DKIM_SELECTOR: "s1",
    PAPERMAIL_DKIM_KEY_FILE: keyFile,
  });
  await p.cli(["ingest", SAMPLE_FILES[0]!]);
  return { p, dns };
}

const IP = "203.0.113.7";

describe("papermail doctor", () => {
  it("passes a setup with SPF, a matching DKIM key, aligned DMARC and forward-confirmed reverse DNS; the composed digest authenticates", async () => {
    const key = dkimKey();
    const { p } = await doctorProject(
      {
        "example.org": [{ type: "TXT", value: `v=spf1 ip4:${IP} -all` }],
        "s1._domainkey.example.org": [{ type: "TXT", value: `v=DKIM1; k=rsa; p=${key.published}` }],
        "_dmarc.example.org": [{ type: "TXT", value: "v=DMARC1; p=reject; rua=mailto:dmarc@example.org" }],
        "7.113.0.203.in-addr.arpa": [{ type: "PTR", value: "mail.example.org" }],
        "mail.example.org": [{ type: "A", value: IP }],
      },
      key.pem,
    );
    const run = await p.cli(["doctor", "--json", "--ip", IP]);
    const checks = JSON.parse(run.stdout).checks as Check[];
    const byName = new Map(checks.map((c) => [c.name, c]));
    expect([...byName.keys()]).toEqual(["public-url", "from", "spf", "dkim", "dmarc", "reverse-dns", "tls", "list-headers", "authentication"]);
    for (const name of ["public-url", "from", "spf", "dkim", "dmarc", "reverse-dns", "list-headers", "authentication"]) expect(byName.get(name), name).toMatchObject({ status: "pass" });
    // The test's relay is on 127.0.0.1: plain SMTP is only a warning there.
    expect(byName.get("tls")!.status).not.toBe("fail");
    expect(byName.get("authentication")!.detail).toMatch(/DKIM example\.org: pass; SPF pass for 203\.0\.113\.7; DMARC pass/);
    expect(run.code).toBe(0);
    const text = await p.cli(["doctor", "--ip", IP]);
    expect(text.stdout).toMatch(/^pass {2}spf/m);
    expect(text.stdout).toMatch(/Nothing failed/);
  });

  it("fails a broken setup, each with the exact record to publish, and exits 1", async () => {
    const key = dkimKey();
    const { p } = await doctorProject(
      {
        // A second SPF record, the key of another selector, no DMARC, a PTR that does not point back.
        "example.org": [
          { type: "TXT", value: "v=spf1 include:_spf.example.net ~all" },
          { type: "TXT", value: "v=spf1 a -all" },
        ],
        "s1._domainkey.example.org": [{ type: "TXT", value: `v=DKIM1; k=rsa; p=${dkimKey().published}` }],
        "7.113.0.203.in-addr.arpa": [{ type: "PTR", value: "host.isp.example.net" }],
        "host.isp.example.net": [{ type: "A", value: "198.51.100.1" }],
      },
      key.pem,
    );
    const run = await p.cli(["doctor", "--json", "--ip", IP]);
    expect(run.code).toBe(1);
    const byName = new Map((JSON.parse(run.stdout).checks as Check[]).map((c) => [c.name, c]));
    expect(byName.get("spf")).toMatchObject({ status: "fail", detail: expect.stringContaining("2 SPF records"), fix: `merge them into one: example.org. TXT "v=spf1 ip4:${IP} ~all"` });
    expect(byName.get("dkim")).toMatchObject({ status: "fail", fix: `publish s1._domainkey.example.org. TXT "v=DKIM1; k=rsa; p=${key.published}"` });
    expect(byName.get("dmarc")).toMatchObject({ status: "fail", fix: 'publish _dmarc.example.org. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.org"' });
    expect(byName.get("reverse-dns")).toMatchObject({ status: "fail", fix: `publish host.isp.example.net. A ${IP}` });
    expect(byName.get("authentication")!.status).not.toBe("pass");
    // No DMARC, no SPF at all: the first fail names the whole record to publish.
    const bare = await doctorProject({}, key.pem);
    const none = new Map((JSON.parse((await bare.p.cli(["doctor", "--json", "--ip", IP])).stdout).checks as Check[]).map((c) => [c.name, c]));
    expect(none.get("spf")).toMatchObject({ status: "fail", fix: `publish example.org. TXT "v=spf1 ip4:${IP} ~all"` });
    expect(none.get("reverse-dns")).toMatchObject({ status: "fail", fix: expect.stringContaining(`set its PTR to mail.example.org, and publish mail.example.org. A ${IP}`) });
  });

  it("says what is wrong with its flags, and asks the configured resolvers only", async () => {
    const { p, dns } = await doctorProject({}, dkimKey().pem);
    const bad = await p.cli(["doctor", "--ip", "not-an-address"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--ip "not-an-address" is not an IPv4 or IPv6 address');
    await p.cli(["doctor", "--json"]);
    expect(dns.asked).toContain("example.org TXT");
    expect(dns.asked).toContain("_dmarc.example.org TXT");
    Object.assign(p.env, { PAPERMAIL_DNS_SERVERS: "not a resolver" });
    const config = await p.cli(["doctor"]);
    expect(config.code).toBe(2);
    expect(config.stderr).toContain("PAPERMAIL_DNS_SERVERS");
  });
});
