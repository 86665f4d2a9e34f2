import { findCommand, findReplyCode, findStatus, judgeFailure } from "../classify.js";
import { findAddresses } from "../mime-parts.js";
import { codeText, DETAIL_LIMIT, textNear, type ReportEntry } from "./entry.js";
import { fieldBlocks } from "./fields.js";

/**
 * The address of a Final-Recipient or Original-Recipient field ("rfc822; ada@example.org"):
 * null when it is not a plain address (a source route, a %-hack, no domain).
 */
function recipientOf(value: string | undefined): { address: string | null; plain: boolean } {
  if (!value) return { address: null, plain: false };
  const bare = value.replace(/^[^;]*;/, "").trim().replace(/^<|>$/g, "");
  const address = findAddresses(bare, 1)[0] ?? null;
  const plain = address !== null && !/^@|:/.test(bare) && !address.split("@")[0]!.includes("%") && bare.toLowerCase() === address;
  return { address, plain };
}

/** The per-recipient blocks of a delivery status notification. */
export function readDsn(statusText: string, explanation: string): ReportEntry[] {
  const entries: ReportEntry[] = [];
  const blocks = fieldBlocks(statusText);
  const everyone = blocks.flatMap((f) => [recipientOf(f.get("final-recipient")?.[0]).address, recipientOf(f.get("original-recipient")?.[0]).address]).filter((a): a is string => a !== null);
  for (const f of blocks) {
    const final = recipientOf(f.get("final-recipient")?.[0]);
    const original = recipientOf(f.get("original-recipient")?.[0] ?? f.get("x-actual-recipient")?.[0]);
    if (!final.address && !original.address && !f.has("action") && !f.has("status")) continue;
    if (!f.has("final-recipient") && !f.has("original-recipient") && !f.has("action")) continue;
    const status = findStatus(f.get("status")?.[0] ?? "") ?? null;
    const action = (f.get("action")?.[0] ?? (status?.startsWith("5") ? "failed" : status?.startsWith("4") ? "delayed" : "")).toLowerCase().trim();
    const diagnostic = (f.get("diagnostic-code")?.[0] ?? "").replace(/^[^;]{0,20};\s*/, "");
    // A source-routed or otherwise odd Final-Recipient leaves the Original-Recipient to name them.
    const recipient = final.plain ? final.address : (original.address ?? final.address);
    const alternates = [final.address, original.address].filter((a): a is string => a !== null && a !== recipient);
    if (action.startsWith("delayed")) {
      entries.push({ recipient, alternates, reason: "delayed", kind: "not-a-bounce", statusCode: status, detail: diagnostic.slice(0, DETAIL_LIMIT) || "delivery delayed" });
      continue;
    }
    if (/^(delivered|relayed|expanded|deliverable)/.test(action) || status?.startsWith("2")) {
      entries.push({ recipient, alternates, reason: "delivered", kind: "not-a-bounce", statusCode: status, detail: action });
      continue;
    }
    if (!action.startsWith("failed") && !status) continue;
    // The human-readable part speaks for a recipient whose block has no diagnostic of its
    // own, and often names the refused command ("in reply to end of DATA command").
    const near = textNear(explanation, recipient, everyone);
    const words = diagnostic || near || explanation;
    const command = findCommand(diagnostic) ?? findCommand(near) ?? (failedCount(statusText) === 1 ? findCommand(explanation) : undefined);
    const judgement = judgeFailure({
      status: status === "5.0.0" || status === "4.0.0" ? (findStatus(diagnostic) ?? status) : status,
      text: words,
      command,
    });
    entries.push({ recipient, alternates, ...judgement, statusCode: status ?? findStatus(words) ?? codeText(findReplyCode(words)), detail: (diagnostic || explanation).replace(/\s+/g, " ").trim().slice(0, DETAIL_LIMIT) });
  }
  // Failures first: a report with any failure is a bounce.
  return entries.some((e) => e.kind !== "not-a-bounce") ? entries.filter((e) => e.kind !== "not-a-bounce") : entries;
}

/** How many recipients a delivery status part reports as failed. */
function failedCount(statusText: string): number {
  return (statusText.match(/^action:\s*failed/gim) ?? []).length;
}
