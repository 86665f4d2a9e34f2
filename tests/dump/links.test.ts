import { describe, expect, it } from "vitest";
import { extractLinks } from "../../src/model/links.js";
import { growth } from "../helpers/linear.js";

describe("links in an abstract", () => {
  it("trims trailing punctuation and unopened brackets, keeping brackets the URL opened", () => {
    expect(extractLinks("see https://github.com/a/b). and (https://en.wikipedia.org/wiki/Foo_(bar)), or [https://x.org/y]")).toEqual([
      "https://github.com/a/b",
      "https://en.wikipedia.org/wiki/Foo_(bar)",
      "https://x.org/y",
    ]);
  });

  it("takes time linear in the text, however many brackets a URL ends with", () => {
    expect(growth((n) => `https://example.org/${")".repeat(n)}`, extractLinks, 12_000)).toBeLessThan(8);
    expect(growth((n) => `https://example.org/${"(".repeat(n)}${")".repeat(n)}`, extractLinks, 6_000)).toBeLessThan(8);
    expect(growth((n) => Array.from({ length: n }, (_, i) => `https://e.org/${i}`).join(" "), extractLinks, 2_000)).toBeLessThan(8);
  });
});
