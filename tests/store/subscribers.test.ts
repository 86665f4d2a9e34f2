import { describe, expect, it } from "vitest";
import { project } from "../helpers/project.js";

describe("a forgotten reader", () => {
  it("never gives a forgotten reader's id to the next subscriber", async () => {
    const p = project();
    await p.cli(["subscribers", "add", "ada@example.org", "--confirmed"]);
    await p.cli(["subscribers", "add", "bob@example.org", "--confirmed"]);
    const ids = () => new Map((p.db().prepare("SELECT email, id FROM subscribers").all() as Array<{ email: string; id: number }>).map((r) => [r.email, r.id]));
    const bob = ids().get("bob@example.org")!;
    expect((await p.cli(["subscribers", "remove", "bob@example.org", "--forget"])).code).toBe(0);
    await p.cli(["subscribers", "add", "carol@example.org", "--confirmed"]);
    expect(ids().get("carol@example.org")).toBeGreaterThan(bob);
  });
});
