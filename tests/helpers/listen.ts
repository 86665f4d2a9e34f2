import type { Server as HttpServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import { defer } from "./cleanup.js";

/**
 * Listens on 127.0.0.1 on a port the system picks (never one found free and closed
 * again); closed when the test ends, its open connections cut. Returns the port.
 */
export async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  defer(
    () =>
      new Promise<void>((resolve) => {
        (server as Partial<HttpServer>).closeAllConnections?.();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}
