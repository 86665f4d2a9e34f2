import { crc32, deflateSync } from "node:zlib";

const YELLOW = [0xff, 0xd2, 0x1e];
const INK = [0x1f, 0x23, 0x28];

/** The site's icon: an envelope on Hugging Face yellow. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#ffd21e"/>' +
  '<rect x="6" y="9" width="20" height="14" rx="2" fill="none" stroke="#1f2328" stroke-width="2"/>' +
  '<path d="M7 10l9 7 9-7" fill="none" stroke="#1f2328" stroke-width="2"/></svg>\n';

/** The same envelope as 32 x 32 pixels: true where the ink is. */
function ink(x: number, y: number): boolean {
  const frame = x >= 6 && x <= 25 && y >= 9 && y <= 22 && (x <= 7 || x >= 24 || y <= 10 || y >= 21);
  // The flap: two lines from the top corners to the middle.
  const flap = y >= 10 && y <= 17 && (Math.abs(x - (7 + (y - 10) * (9 / 7))) < 1.2 || Math.abs(x - (24 - (y - 10) * (9 / 7))) < 1.2);
  return frame || flap;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A 32 x 32 PNG of the icon, rounded corners transparent. */
function png(): Buffer {
  const size = 32;
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const cx = Math.min(x, size - 1 - x);
      const cy = Math.min(y, size - 1 - y);
      const outside = cx < 6 && cy < 6 && (6 - cx) ** 2 + (6 - cy) ** 2 > 36;
      const [r, g, b] = ink(x, y) ? INK : YELLOW;
      row.set([r!, g!, b!, outside ? 0 : 255], 1 + x * 4);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

/** /favicon.ico: one 32 x 32 PNG image in an ICO container, as browsers ask for it. */
function ico(): Buffer {
  const image = png();
  const header = Buffer.alloc(22);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(1, 4); // one image
  header.set([32, 32, 0, 0], 6);
  header.writeUInt16LE(1, 10); // colour planes
  header.writeUInt16LE(32, 12); // bits per pixel
  header.writeUInt32LE(image.length, 14);
  header.writeUInt32LE(22, 18);
  return Buffer.concat([header, image]);
}

export const FAVICON_ICO = ico();
