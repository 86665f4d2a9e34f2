/** RFC 822-style fields per blank-line-separated block (folded lines joined). */
export function fieldBlocks(text: string): Array<Map<string, string[]>> {
  const blocks: Array<Map<string, string[]>> = [];
  for (const block of text.slice(0, 512 * 1024).split(/\r?\n[ \t]*\r?\n/)) {
    const fields = new Map<string, string[]>();
    for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon <= 0 || colon > 60) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      if (!/^[a-z0-9-]+$/.test(name)) continue;
      const list = fields.get(name);
      const value = line.slice(colon + 1).trim();
      if (list) list.push(value);
      else fields.set(name, [value]);
    }
    if (fields.size > 0) blocks.push(fields);
  }
  return blocks;
}

