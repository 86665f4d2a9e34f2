// Worker thread: checks console passwords (scrypt: ~50 ms and 16 MB each) at a low
// priority, so that a burst of logins never takes a core from the site.
import { serveTasks } from "../../work/bounded-worker.js";
import { yieldToTheSite } from "../../work/priority.js";
import { verifyPassword } from "./password.js";

yieldToTheSite();
void serveTasks(({ password, hash }: { password: string; hash: string }) => verifyPassword(password, hash));
