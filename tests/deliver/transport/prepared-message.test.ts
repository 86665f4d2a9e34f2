import { describe, expect, it } from "vitest";
import { stuffDots } from "../../../src/deliver/transport/prepared-message.js";

/** What nodemailer's own data writer makes of the same bytes: the reference. */
async function throughNodemailer(message: Buffer): Promise<Buffer> {
  // Not among the package's exports: loaded by path, for this comparison only.
  const { default: DataStream } = (await import("../../../node_modules/nodemailer/dist/esm/smtp-connection/data-stream.js" as string)) as {
    default: new () => import("node:stream").Transform;
  };
  const stream = new DataStream();
  const parts: Buffer[] = [];
  stream.on("data", (c: Buffer) => parts.push(c));
  const ended = new Promise((r) => stream.on("end", r));
  stream.end(message);
  await ended;
  return Buffer.concat(parts);
}

/** A seeded random generator, so a failure can be replayed. */
function random(seed: number) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

describe("dot-stuffing of prepared messages", () => {
  it("writes what nodemailer's data writer writes, for CRLF messages cut anywhere", async () => {
    const rand = random(7);
    for (let round = 0; round < 300; round++) {
      const lines = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => {
        const pick = rand();
        return pick < 0.3 ? "." : pick < 0.5 ? ".." + "x".repeat(Math.floor(rand() * 5)) : pick < 0.6 ? "" : "text. more .\t" + "y".repeat(Math.floor(rand() * 8));
      });
      const text = lines.join("\r\n") + (rand() < 0.5 ? "\r\n" : "");
      const message = Buffer.from(text);
      // Cut into pieces at random places, CR and LF of one line end apart included.
      const chunks: Buffer[] = [];
      for (let at = 0; at < message.length; ) {
        const size = Math.min(message.length - at, 1 + Math.floor(rand() * 6));
        chunks.push(message.subarray(at, at + size));
        at += size;
        if (rand() < 0.1) chunks.push(Buffer.alloc(0));
      }
      const ours = stuffDots(chunks);
      expect(ours, JSON.stringify(text)).toBeDefined();
      expect(Buffer.concat(ours!).toString("latin1"), JSON.stringify(text)).toBe((await throughNodemailer(message)).toString("latin1"));
    }
  });

  it("leaves a message with a bare CR or LF to nodemailer's writer, which mends it", () => {
    for (const text of ["a\nb\r\n", "a\rb\r\n", "a\r\n\n", "\nx", "end\r", "x\r\r\n"]) {
      expect(stuffDots([Buffer.from(text)]), JSON.stringify(text)).toBeUndefined();
    }
    expect(stuffDots([Buffer.from("a\r"), Buffer.from("b")])).toBeUndefined();
    expect(stuffDots([Buffer.from("a\r"), Buffer.from("\n.b\r\n")])!.map(String).join("")).toBe("a\r\n..b\r\n.\r\n");
  });
});

describe("the digest template's promise to the sender", () => {
  it("writes CRLF only and never starts a line with a dot, whatever the dump and the reader bring", async () => {
    const { buildMessageTemplate } = await import("../../../src/render/mime.js");
    const { MARKED } = await import("../../../src/render/recipient-marks.js");
    const hostile = ". a line that is a dot\n.\n..two\r\nbare CR\rhere\n\n" + "x".repeat(74) + ".tail\n" + "é".repeat(30) + ".\n";
    const marks = MARKED.map(([mark]) => mark).join("\n.");
    const template = buildMessageTemplate(
      { subject: ".Subject\r\nBcc: evil@example.org", html: `<p>${hostile}${marks}</p>\n.`, text: `${hostile}\n.${marks}` },
      { from: "Papers <digest@example.org>", date: new Date(0), listId: "<papers.example.org>", extra: { "X-Papermail-Digest": "1" } },
    );
    for (const to of ["ada@example.org", "jörg@example.org"]) {
      const chunks = template.personalise({ to, messageId: "m@example.org", unsubscribeUrl: "https://papers.example.org/unsubscribe/.x", preferencesUrl: "https://papers.example.org/preferences/.y" });
      const stuffed = stuffDots(chunks);
      expect(stuffed).toBeDefined();
      expect(Buffer.concat(stuffed!)).toEqual(Buffer.concat([...chunks, Buffer.from(".\r\n")]));
    }
  });
});

describe("the email's size check", () => {
  it("never counts a message shorter than its quoted-printable encoding", async () => {
    const { encodeQuotedPrintable, quotedPrintableLengthBound } = await import("../../../src/render/quoted-printable.js");
    const pieces = ["a", "=", " ", "\t", ".", "é", "€", "😀", "\n", "\r\n", "x".repeat(70), "<p style=\"margin:0\">"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let n = 0; n < 500; n++) {
      const text = Array.from({ length: Math.floor(next() * 80) }, () => pieces[Math.floor(next() * pieces.length)]).join("");
      const real = encodeQuotedPrintable(text).length;
      const bound = quotedPrintableLengthBound(text);
      expect(bound, JSON.stringify(text)).toBeGreaterThanOrEqual(real);
      expect(bound).toBeLessThanOrEqual(real * 1.05 + 8);
    }
  });
});

describe("templates built by one send", () => {
  it("share their encoded lines and come out byte for byte as built alone", async () => {
    const { buildMessageTemplate } = await import("../../../src/render/mime.js");
    const { memoizedQpLines } = await import("../../../src/render/quoted-printable.js");
    const encodeLine = memoizedQpLines(3);
    const values = { to: "ada@example.org", messageId: "m@example.org", unsubscribeUrl: "https://papers.example.org/unsubscribe/x" };
    const headers = { from: "Papers <digest@example.org>", date: new Date(0), listId: "<papers.example.org>" };
    for (let group = 0; group < 6; group++) {
      // Shared lines, a line of this group's own, non-ASCII, a trailing blank and a long line: the memo fills and starts over.
      const body = `<p>shared é ${"=".repeat(40)}</p>\n<p>group ${group} </p>\n${"long line ".repeat(20)}\n.dot`;
      const rendered = { subject: `Group ${group}`, html: body, text: body };
      const alone = Buffer.concat(buildMessageTemplate(rendered, headers).personalise(values));
      expect(Buffer.concat(buildMessageTemplate(rendered, headers, { encodeLine }).personalise(values))).toEqual(alone);
    }
  });

  it("encode text in segments as they encode it joined: lines across joins, blank ends, a marker in a block", async () => {
    const { buildMessageTemplate } = await import("../../../src/render/mime.js");
    const { MARK } = await import("../../../src/render/recipient-marks.js");
    const values = { to: "ada@example.org", messageId: "m@example.org", unsubscribeUrl: "https://papers.example.org/unsubscribe/x" };
    const headers = { from: "Papers <digest@example.org>", date: new Date(0) };
    const block = (text: string) => ({ text, qpBound: 0 });
    const cases = [
      ["<p>head", block("\n<div>a é</div>"), block("\n<div>b</div> "), "\n</body>"],
      ["no break ", block("joined to the line ="), block(""), " and more\n"],
      ["before ", block(`${"x".repeat(70)} ${MARK.recipient} after\n`), "tail\n.dot"],
      [block("\n"), block("\n\n"), `${MARK.unsubscribeUrl}`, block("end")],
    ];
    for (const segments of cases) {
      const joined = segments.map((s) => (typeof s === "string" ? s : s.text)).join("");
      const flat = Buffer.concat(buildMessageTemplate({ subject: "S", html: joined, text: joined }, headers).personalise(values));
      const cut = Buffer.concat(buildMessageTemplate({ subject: "S", html: joined, text: joined, segments: { html: segments, text: segments } }, headers).personalise(values));
      expect(cut.toString("latin1"), JSON.stringify(joined)).toBe(flat.toString("latin1"));
    }
  });
});
