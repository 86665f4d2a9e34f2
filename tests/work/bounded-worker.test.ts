import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { createBoundedWorker, TaskTooLong } from "../../src/work/bounded-worker.js";
import { ROOT, tempDir } from "../helpers/files.js";

describe("work on hostile input in a bounded worker", () => {
  it("stops a task at its deadline, says so, and the next task gets a fresh worker", async () => {
    const script = join(tempDir(), "spin.mjs");
    const serve = pathToFileURL(join(ROOT, "dist", "work", "bounded-worker.js")).href;
    writeFileSync(script, `import { serveTasks } from ${JSON.stringify(serve)};\nserveTasks((x) => { if (x === "spin") for (;;) {} return x.toUpperCase(); });\n`);
    const worker = createBoundedWorker<string, string>(script, { timeoutMs: 500 });
    try {
      await expect(worker.run("spin")).rejects.toBeInstanceOf(TaskTooLong);
      expect(await worker.run("after")).toBe("AFTER");
    } finally {
      await worker.close();
    }
  });
});
