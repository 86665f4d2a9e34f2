import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import type { Duplex, Writable } from "node:stream";

const CR = 0x0d;
const LF = 0x0a;
const DOT = Buffer.from(".");
const END_AFTER_CRLF = Buffer.from(".\r\n");
const END_AFTER_TEXT = Buffer.from("\r\n.\r\n");

/** Where the data goes: the session's socket (nodemailer's public `_socket`) and a buffer to join the pieces in. */
export interface DataTarget {
  socket(): Socket | undefined;
  /** Joins the pieces into one buffer (the session's own, reused from one message to the next). */
  join(pieces: readonly Buffer[]): Buffer;
}

/**
 * A message already built in pieces, handed to nodemailer as the stream it pipes
 * into its dot-stuffing writer. Piping starts only once the server said 354
 * (`onStart`), and `onHandedOver` comes once every byte and the final dot have left
 * for the network: the two moments the ledger needs to tell a message that cannot
 * have arrived from one that may have.
 *
 * nodemailer's writer looks at every byte in JavaScript (about 1 ms for a 120 KB
 * digest). A digest's template already guarantees what that writer ensures (CRLF
 * only, no line starting with a dot), and other messages have their dots stuffed
 * here with a native search per line end; either is written to the session's
 * socket in one write, whose callback says when it left, and the writer is ended
 * empty. A message with a bare CR or LF goes through the writer, which mends it.
 */
export class PreparedMessage extends EventEmitter {
  private destroyed = false;

  constructor(
    private readonly chunks: readonly Buffer[],
    /** CRLF only and no line starting with a dot: nothing to look for. */
    private readonly smtpReady: boolean,
    private readonly target: DataTarget,
    private readonly onStart: () => void,
    private readonly onHandedOver: () => void,
  ) {
    super();
  }

  /** Sends every piece and the end marker, then ends `destination` (nodemailer's data stream). */
  pipe<T extends Writable>(destination: T): T {
    if (this.destroyed) return destination;
    this.onStart();
    const stuffed = this.smtpReady ? [...this.chunks, END_AFTER_CRLF] : stuffDots(this.chunks);
    const socket = this.target.socket();
    const output = destination as unknown as Duplex;
    if (stuffed && socket && typeof output.push === "function") {
      socket.write(this.target.join(stuffed), (err) => {
        if (!err) this.onHandedOver();
      });
      // Nothing more comes through nodemailer's writer: its output ends empty.
      output.push(null);
      return destination;
    }
    destination.once("end", this.onHandedOver);
    for (const chunk of this.chunks) if (chunk.length > 0) destination.write(chunk);
    destination.end();
    return destination;
  }

  /** Called by nodemailer when the message will not be sent after all. */
  destroy(): void {
    this.destroyed = true;
  }
}

/**
 * The message as SMTP data (RFC 5321 4.5.2): a dot doubled at each line start, the
 * end marker after it. Undefined when a CR or LF stands alone (the slow path mends it).
 */
export function stuffDots(chunks: readonly Buffer[]): Buffer[] | undefined {
  const out: Buffer[] = [];
  let previous = LF; // the message starts a line
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]!;
    if (chunk.length === 0) continue;
    if (previous === CR && chunk[0] !== LF) return undefined;
    let from = 0;
    // A line that starts in this chunk: the previous one ended with CRLF.
    if (previous === LF && chunk[0] === DOT[0]) out.push(DOT);
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) {
      if ((at === 0 ? previous : chunk[at - 1]) !== CR) return undefined;
      if (at + 1 < chunk.length && chunk[at + 1] === DOT[0]) {
        out.push(chunk.subarray(from, at + 1), DOT);
        from = at + 1;
      }
    }
    // Every CR must be followed by an LF (one that ends a chunk, by the next chunk's first byte).
    for (let at = chunk.indexOf(CR); at !== -1; at = chunk.indexOf(CR, at + 1)) {
      if (at + 1 < chunk.length && chunk[at + 1] !== LF) return undefined;
    }
    out.push(from === 0 ? chunk : chunk.subarray(from));
    previous = chunk[chunk.length - 1]!;
  }
  if (previous === CR) return undefined;
  out.push(previous === LF && out.length > 0 ? END_AFTER_CRLF : END_AFTER_TEXT);
  return out;
}
