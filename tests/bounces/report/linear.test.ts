import { describe, expect, it } from "vitest";
import { readBounceReport } from "../../../src/bounces/report/read.js";
import { fastestMs, growth } from "../../helpers/linear.js";

const headers = (extra = "") =>
  `From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n${extra}Content-Type: text/plain\r\n\r\n`;
const read = (text: string) => readBounceReport(Buffer.from(text, "latin1"));

describe("reading a hostile bounce takes time linear in its size", () => {
  it("blank lines do not make the cut at the original message rescan the text from every line", () => {
    const size = 32 * 1024;
    const blank = headers() + "\n".repeat(size);
    const prose = headers() + "Your message could not be delivered to some recipients. ".repeat(size / 56);
    // The explanation is read up to 32 KB: compared with ordinary words of the same size, not with a larger input.
    expect((fastestMs(() => read(blank)) + 1) / (fastestMs(() => read(prose)) + 1)).toBeLessThan(10);
    expect(growth((n) => headers() + "\r\n \t".repeat(n), read, 2000)).toBeLessThan(8);
  });

  it("a long In-Reply-To or References header is not matched whole", () => {
    for (const header of ["In-Reply-To", "References"]) {
      expect(growth((n) => headers(`${header}: ${"a@".repeat(n)}b x<\r\n`), read, 4 * 1024), header).toBeLessThan(8);
      expect(growth((n) => headers(`${header}: ${"<x@y> ".repeat(n)}\r\n`), read, 4 * 1024), header).toBeLessThan(8);
    }
  });

  it("an HTML bounce full of unclosed tags and styles is stripped in one pass", () => {
    const html = (body: string) => headers().replace("text/plain", "text/html") + body;
    expect(growth((n) => html("<style".repeat(n)), read, 1500)).toBeLessThan(8);
    expect(growth((n) => html("<".repeat(n)), read, 8000)).toBeLessThan(8);
    expect(growth((n) => html("<style>x".repeat(n)), read, 1500)).toBeLessThan(8);
  });

  it("still reads what an HTML bounce says", () => {
    const r = read(headers().replace("text/plain", "text/html") + "<html><style>p{color:red}</style><p>Delivery to the following recipient failed permanently:</p><p>ada@example.org</p><p>550 5.1.1 User unknown</p></html>");
    expect(r.recognised && r.entries[0]).toMatchObject({ recipient: "ada@example.org", kind: "hard" });
  });
});
