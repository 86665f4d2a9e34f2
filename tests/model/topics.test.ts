import { describe, expect, it } from "vitest";
import { parseTopics, topicMatcher } from "../../src/model/topics.js";
import { growth } from "../helpers/linear.js";

describe("topics", () => {
  it("matches any topic in time linear in the text, hostile topics over a large abstract included", () => {
    // Shapes that made backtracking patterns: many short words, hyphens, repeats, a near miss at the end.
    // "a - - ... - z" compiled to 28 runs of [\s-]+ around literal hyphens: 40 characters of " -" took minutes.
    const hostile = parseTopics(
      [
        Array.from({ length: 30 }, () => "a").join("-").slice(0, 59),
        `a ${Array.from({ length: 28 }, () => "-").join(" ")} z`,
        "a a a a a a a a a a a a a a a a a a a a a a a a a a a a a b",
        "x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- x- y",
      ].join(","),
    );
    const match = topicMatcher(hostile);
    const abstract = (n: number) => `${"a-a a-".repeat(2 * n)}a ${" -".repeat(n)} ${"x- ".repeat(n)}`;
    expect(match({ title: "t", abstract: abstract(100_000) })).toEqual([hostile[0]]);
    // Four times the text, about four times the work (a backtracking pattern takes far more).
    expect(growth(abstract, (a) => match({ title: "t", abstract: a }), 25_000)).toBeLessThan(8);
  });
});
