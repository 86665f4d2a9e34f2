/**
 * Waits until `condition` holds, checking every few milliseconds. No deadline of its
 * own: the test's timeout is the only limit, so a busy machine makes a test slower,
 * never wrong. After 30 s it says once what it is still waiting for.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, everyMs = 10): Promise<void> {
  const started = Date.now();
  let told = false;
  while (!(await condition())) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    if (!told && Date.now() - started > 30_000) {
      told = true;
      process.stderr.write(`still waiting for ${what}\n`);
    }
  }
}
