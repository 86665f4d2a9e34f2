import type { DigestView, EmailPaper } from "./digest-view.js";
import { sharedBlock, type Segment } from "./paper-blocks.js";
import { MARK } from "./recipient-marks.js";

/**
 * The plain-text part of a digest (the same view as the HTML, written as text) in pieces: each paper's lines (after its number) are a block
 * shared by every rendering that shows the same view of it, and each piece after the
 * first begins with a line break, so pieces encode apart as the whole text would.
 */
export function digestTextSegments(view: DigestView): Segment[] {
  const segments: Segment[] = [[view.headline, `${view.kicker} · ${view.intro}`, `View this digest on the web: ${view.archiveUrl}`, ""].join("\n")];
  view.papers.forEach((p, i) => {
    segments.push(`\n${i + 1}. `, sharedBlock(p, view.compact ? "text compact" : "text full", () => paperLines(p, view.compact).join("\n")));
  });
  const lines: string[] = [];
  if (view.also.length > 0) {
    lines.push("Also trending", "");
    for (const p of view.also) lines.push(`- ${p.title}`, `  ▲ ${p.upvotesLabel}${p.place ? ` · ${p.place}` : ""} · ${p.pageUrl}`);
    lines.push("");
  }
  if (view.more > 0) lines.push(`And ${view.more} more: ${view.moreUrl}`, "");
  lines.push("-- ", `You get this email because ${MARK.recipient} subscribed to ${view.why} at ${view.siteHost}.`);
  lines.push(`Your choices (topics, daily or weekly, format): ${MARK.preferencesUrl}`, `Unsubscribe: ${MARK.unsubscribeUrl}`, `RSS feed: ${view.feedUrl}`, "");
  segments.push(`\n${lines.join("\n")}`);
  return segments;
}

/** A paper's lines after its number, ending with a blank line: its view alone decides them. */
function paperLines(p: EmailPaper, compact: boolean): string[] {
  const row = p.links.map((l) => `${l.label}: ${l.url}${l.note ? ` (${l.note.replace("\u00a0", " ")})` : ""}`);
  if (compact) {
    const lines = [p.title, `   ▲ ${p.upvotesLabel} · ${row.join(" · ")}`];
    if (p.why) lines.push(`   ${p.why}`);
    lines.push("");
    return lines;
  }
  const lines = [p.title, `   ▲ ${p.upvotesLabel}${p.byline ? ` · ${p.byline}` : ""}${p.publishedOn ? ` · ${p.publishedOn}` : ""}`];
  if (p.why) lines.push(`   ${p.why}`);
  if (p.summary) lines.push("", wrap(p.summary, 72, "   "));
  if (p.short) lines.push("", wrap(p.short, 72, "   "));
  lines.push("", `   Read more: ${p.pageUrl}`);
  for (const link of row) lines.push(`   ${link}`);
  lines.push("");
  return lines;
}

function wrap(text: string, width: number, indent: string): string {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      out.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(indent + line);
  return out.join("\n");
}
