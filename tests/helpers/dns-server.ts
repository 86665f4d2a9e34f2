import { createSocket } from "node:dgram";
import type { AddressInfo } from "node:net";
import { defer } from "./cleanup.js";

/** A record a test's DNS server answers with. */
export type DnsRecord = { type: "A" | "AAAA" | "TXT" | "PTR"; value: string };

const TYPES = { A: 1, PTR: 12, TXT: 16, AAAA: 28 } as const;

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, "").split(".").filter(Boolean);
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")])), Buffer.from([0])]);
}

function rdata(record: DnsRecord): Buffer {
  if (record.type === "A") return Buffer.from(record.value.split(".").map(Number));
  if (record.type === "PTR") return encodeName(record.value);
  if (record.type === "AAAA") {
    const [head = "", tail = ""] = record.value.split("::");
    const groups = (s: string) => (s ? s.split(":") : []);
    const all = [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill("0"), ...groups(tail)];
    return Buffer.from(all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]));
  }
  // TXT: the text in strings of at most 255 bytes.
  const text = Buffer.from(record.value, "utf8");
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length || i === 0; i += 255) {
    const chunk = text.subarray(i, i + 255);
    parts.push(Buffer.from([chunk.length]), chunk);
  }
  return Buffer.concat(parts);
}

/**
 * A DNS server on 127.0.0.1 (UDP, a port the system picks) that answers from `zone`:
 * NXDOMAIN for a name it does not know, no answer for a type the name lacks. Enough
 * for `doctor`'s questions; stopped when the test ends.
 */
export async function startDnsServer(zone: Record<string, DnsRecord[]>) {
  const records = new Map(Object.entries(zone).map(([k, v]) => [k.toLowerCase().replace(/\.$/, ""), v]));
  const asked: string[] = [];
  const socket = createSocket("udp4");
  socket.on("message", (query, peer) => {
    if (query.length < 12) return;
    // The question: labels from byte 12, then its type and class.
    let at = 12;
    const labels: string[] = [];
    while (at < query.length && query[at] !== 0) {
      labels.push(query.toString("ascii", at + 1, at + 1 + query[at]!));
      at += query[at]! + 1;
    }
    const questionEnd = at + 5;
    const name = labels.join(".").toLowerCase();
    const type = query.readUInt16BE(at + 1);
    asked.push(`${name} ${Object.entries(TYPES).find(([, n]) => n === type)?.[0] ?? type}`);
    const known = records.get(name);
    const answers = (known ?? []).filter((r) => TYPES[r.type] === type);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8000 | 0x0400 | (query.readUInt16BE(2) & 0x0100) | 0x0080 | (known ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const rrs = answers.map((r) => {
      const data = rdata(r);
      const fixed = Buffer.alloc(12);
      fixed.writeUInt16BE(0xc00c, 0); // the question's name
      fixed.writeUInt16BE(TYPES[r.type], 2);
      fixed.writeUInt16BE(1, 4);
      fixed.writeUInt32BE(60, 6);
      fixed.writeUInt16BE(data.length, 10);
      return Buffer.concat([fixed, data]);
    });
    socket.send(Buffer.concat([header, query.subarray(12, questionEnd), ...rrs]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  defer(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { address: `127.0.0.1:${(socket.address() as AddressInfo).port}`, asked };
}
