import { createServer, type ServerResponse } from "node:http";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { splitJsonEntries } from "../../src/dump/json-entries.js";
import { fetchDailyPapers } from "../../src/fetch/daily-papers.js";
import { tempDir } from "../helpers/files.js";
import { listen } from "../helpers/listen.js";

/** A local API whose every answer `write` produces; counts the bytes it managed to send. */
async function api(write: (res: ServerResponse, page: number) => void) {
  const sent = { bytes: 0, requests: 0 };
  const server = createServer((req, res) => {
    sent.requests++;
    const page = Number(new URL(req.url!, "http://x").searchParams.get("p") ?? 0);
    const original = res.write.bind(res);
    res.write = ((chunk: string | Buffer, ...rest: unknown[]) => {
      sent.bytes += Buffer.byteLength(chunk);
      return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof res.write;
    write(res, page);
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/api/daily_papers`, sent };
}

/** Writes `total` bytes in chunks, waiting for the socket to drain between them (a fast server, not a flood into memory). */
function stream(res: ServerResponse, total: number, chunk: Buffer): void {
  res.writeHead(200, { "Content-Type": "application/json" });
  let left = total;
  const next = () => {
    while (left > 0 && !res.destroyed) {
      left -= chunk.length;
      if (!res.write(chunk)) return void res.once("drain", next);
    }
    res.end();
  };
  res.on("close", () => (left = 0));
  next();
}

const entry = (i: number, abstractBytes = 200) => ({ paper: { id: `2412.${String(10000 + i)}`, title: `Paper ${i}`, summary: "x".repeat(abstractBytes), upvotes: i } });

describe("fetch bounds what a stranger's server can make it read", () => {
  it("refuses an answer of nested arrays at its 33rd bracket, before reading the rest", async () => {
    const server = await api((res) => stream(res, 20 * 1024 * 1024, Buffer.alloc(64 * 1024, "[")));
    const dir = tempDir();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { apiUrl: server.url, dumpsDir: dir, userAgent: "test", attempts: 1 })).rejects.toThrow(
      /nested more than 32 levels deep.*the rest was not read/,
    );
    // A fraction of the 20 MB ever left the server (what the socket buffers held).
    expect(server.sent.bytes).toBeLessThan(8 * 1024 * 1024);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("counts PAPERMAIL_FETCH_MAX_MB for the whole day, every page together", async () => {
    // Full pages of 100 entries of about 20 KB each: 2 MB a page, never a short page.
    const page = Buffer.from(JSON.stringify(Array.from({ length: 100 }, (_, i) => entry(i, 20_000))));
    const server = await api((res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(page);
    });
    const dir = tempDir();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { apiUrl: server.url, dumpsDir: dir, userAgent: "test", attempts: 1, maxBytes: 5 * 1024 * 1024 })).rejects.toThrow(
      /the day's answers are larger than 5 MB \(PAPERMAIL_FETCH_MAX_MB\)/,
    );
    expect(server.sent.requests).toBeLessThanOrEqual(3);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a day that never ends after 20 pages", async () => {
    const page = Buffer.from(JSON.stringify(Array.from({ length: 100 }, (_, i) => entry(i, 10))));
    const server = await api((res) => {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(page);
    });
    const dir = tempDir();
    await expect(fetchDailyPapers("2024-12-12", new Date(), { apiUrl: server.url, dumpsDir: dir, userAgent: "test", attempts: 1 })).rejects.toThrow(/more than 20 pages/);
    expect(server.sent.requests).toBe(20);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("finding the entries of a JSON dump", () => {
  it("names the line of what is wrong, and never builds what it refuses", () => {
    const deep = Buffer.from(`[\n${"[".repeat(40)}`);
    expect(() => splitJsonEntries(deep)).toThrow(/^line 2: JSON nested more than 32 levels deep/);
    expect(() => splitJsonEntries(Buffer.from('[{"a": 1},\n{"b": "open'))).toThrow(/line 2: not valid JSON \(a string is never closed\)/);
    expect(() => splitJsonEntries(Buffer.from('{"a": 1} {"b": 2}'))).toThrow(/line 1: not valid JSON \(expected one daily_papers entry per line\)/);
    const ok = splitJsonEntries(Buffer.from('[\n {"title": "a, ]\\" x"},\n {"title": "b"}\n]'));
    expect(ok.entries.map((e) => e.line)).toEqual([2, 3]);
  });
});
