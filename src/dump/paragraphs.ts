import { cleanText } from "../model/text.js";

/** A run of non-blank lines. */
export interface Paragraph {
  line: number;
  lines: string[];
}

/**
 * Runs of non-blank lines, read from the bytes only as far as they are asked for,
 * so the first papers come out before the whole file is split. Lines are found on
 * the bytes and decoded one by one (cheaper than one huge string); trim() removes
 * \r, trailing and non-breaking spaces, and a BOM; cleanText() removes what no
 * dump text may carry.
 */
export class Paragraphs {
  private readonly list: Paragraph[] = [];
  /** Index of list[0]: paragraphs already read are let go, so they die young. */
  private first = 0;
  private pos = 0;
  private lineNo = 0;
  constructor(private readonly bytes: Buffer) {}

  get bytesRead(): number {
    return Math.min(this.pos, this.bytes.length);
  }

  /** The i-th paragraph, or undefined past the end (or when it was let go). */
  at(i: number): Paragraph | undefined {
    while (this.first + this.list.length <= i && this.pos < this.bytes.length) this.readOne();
    return this.list[i - this.first];
  }

  /** Lets go of the paragraphs before the i-th. */
  forget(i: number): void {
    while (this.first < i && this.list.length > 0) {
      this.list.shift();
      this.first++;
    }
  }

  private readOne(): void {
    const bytes = this.bytes;
    let current: Paragraph | null = null;
    while (this.pos < bytes.length) {
      let end = bytes.indexOf(10, this.pos);
      if (end === -1) end = bytes.length;
      const line = end > this.pos ? cleanText(bytes.toString("utf8", this.pos, end)).trim() : "";
      this.lineNo++;
      this.pos = end + 1;
      if (line === "") {
        if (current) return;
      } else if (current) current.lines.push(line);
      else {
        current = { line: this.lineNo, lines: [line] };
        this.list.push(current);
      }
    }
  }
}
