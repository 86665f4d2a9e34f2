import net from "node:net";
import { defer } from "./cleanup.js";
import { listen } from "./listen.js";

/**
 * A mail relay that is down: it resets every connection at once, as a host whose
 * mail server is not running does, until `up(port)` makes it pass connections on to
 * a real server there. Its address stays the same throughout, as a relay's does.
 */
export async function downRelay() {
  let target: number | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (target === undefined) return void client.resetAndDestroy();
    const upstream = net.connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  const port = await listen(server);
  defer(() => sockets.forEach((s) => s.destroy()));
  return {
    url: `smtp://127.0.0.1:${port}`,
    /** From now on, connections reach the server listening on `port`; open ones are dropped, as a restarted relay drops them. */
    up(port: number) {
      target = port;
      for (const s of sockets) s.destroy();
    },
  };
}
