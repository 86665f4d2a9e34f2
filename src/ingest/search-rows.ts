import type { SearchText } from "../store/search-db.js";

/**
 * Papers' index text packed into one buffer (id, then each field as a length and its
 * UTF-8 bytes), handed from the store worker to the index worker without a copy: a
 * structured clone of 100 MB of strings costs more than packing them, and the index
 * takes the bytes as they are.
 */
export function createRowPacker(initialBytes = 4 * 1024 * 1024) {
  let buf = Buffer.from(new ArrayBuffer(initialBytes));
  let at = 0;
  const room = (n: number) => {
    if (at + n <= buf.length) return;
    const bigger = Buffer.from(new ArrayBuffer(Math.max(buf.length * 2, at + n)));
    buf.copy(bigger, 0, 0, at);
    buf = bigger;
  };
  return {
    add(id: number, text: SearchText): void {
      room(8);
      buf.writeDoubleLE(id, at);
      at += 8;
      for (const field of text) {
        if (field === null) {
          room(4);
          buf.writeInt32LE(-1, at);
          at += 4;
          continue;
        }
        const n = Buffer.byteLength(field);
        room(4 + n);
        buf.writeInt32LE(n, at);
        buf.write(field, at + 4, n, "utf8");
        at += 4 + n;
      }
    },
    get size(): number {
      return at;
    },
    /** The packed rows so far: the buffer itself, to transfer (the packer starts a new one) and how much of it is used. */
    take(): { packed: ArrayBuffer; length: number } {
      const taken = { packed: buf.buffer as ArrayBuffer, length: at };
      // A buffer of its own (never a slice of Node's shared pool), so it can be handed over whole.
      buf = Buffer.from(new ArrayBuffer(initialBytes));
      at = 0;
      return taken;
    },
  };
}

/** The rows of a packed buffer: each field a view on the bytes (no copy, no decoding). */
export function* unpackRows(packed: ArrayBuffer, length: number): Generator<{ id: number; fields: Array<Buffer | null> }> {
  const buf = Buffer.from(packed, 0, length);
  let at = 0;
  while (at < buf.length) {
    const id = buf.readDoubleLE(at);
    at += 8;
    const fields: Array<Buffer | null> = [];
    for (let i = 0; i < 7; i++) {
      const n = buf.readInt32LE(at);
      at += 4;
      if (n < 0) fields.push(null);
      else {
        fields.push(buf.subarray(at, at + n));
        at += n;
      }
    }
    yield { id, fields };
  }
}
