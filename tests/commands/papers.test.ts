import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/files.js";
import { project } from "../helpers/project.js";

const RECORDED = join(ROOT, "tests", "fixtures", "daily_papers", "2024-12-12.json");

describe("papermail papers", () => {
  it("papers prints each paper's links under its title", async () => {
    const p = project();
    await p.cli(["ingest", RECORDED]);
    const out = (await p.cli(["papers", "--limit", "1"])).stdout.split("\n");
    expect(out[1]).toMatch(/^ {15}https:\/\/huggingface\.co\/papers\/\d{4}\.\d{5} {2}https:\/\/arxiv\.org\/pdf\/\d{4}\.\d{5}/);
  });
});
