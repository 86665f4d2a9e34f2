import { findCommand, findReplyCode, findStatus, judgeFailure } from "../classify.js";
import { decodeHeader, findAddresses, first, type MimeEntity } from "../mime-parts.js";
import { codeText, squeeze, textNear, type ReportEntry } from "./entry.js";
import { originalHeaders } from "./evidence.js";

const BOUNCE_SENDER = /mailer-daemon|post_?master|mail delivery|mail administrator|mail system|mailer daemon/i;
const BOUNCE_SUBJECT = /undeliver|undelivered|delivery (status|failure|failed|has failed|notification|problem|report)|returned (mail|to sender)|failure notice|non.?delivery|not delivered|could not be delivered|mail delivery failed|delivery error|nondeliverable|bounce|rejected|unzustellbar|non remis|no entregado|配信|エラー/i;
const BOUNCE_OPENING = /could not be delivered|couldn't be delivered|wasn't able to deliver|unable to deliver|permanent(ly)? (error|failure|fatal)|delivery (has )?failed|failed permanently|undeliverable|not be delivered|could not deliver|the following address(es)? failed|message could not|returned to sender|delivery to the following|was not delivered|rejected your message|an error occurred while trying to deliver/i;

export function looksLikeBounce(root: MimeEntity, explanation: string): boolean {
  const from = decodeHeader(first(root.headers, "from"));
  const subject = decodeHeader(first(root.headers, "subject"));
  return BOUNCE_SENDER.test(from) || BOUNCE_SUBJECT.test(subject) || BOUNCE_OPENING.test(explanation.slice(0, 2000)) || root.headers.has("x-failed-recipients");
}

const AUTO_SUBJECT = /^\s*(auto(matic)?[ -]?(reply|response|antwort)|auto:|out of (the )?office|abwesenheit|réponse automatique|respuesta automática|vacation|away from|自動応答|不在)/i;

/** An out-of-office or other automatic answer (RFC 3834), which is no bounce. */
export function isAutoReply(root: MimeEntity): boolean {
  const auto = (first(root.headers, "auto-submitted") ?? "").toLowerCase();
  return (
    auto.startsWith("auto-replied") ||
    root.headers.has("x-autoreply") ||
    root.headers.has("x-autorespond") ||
    /auto[_-]?reply/i.test(first(root.headers, "precedence") ?? "") ||
    AUTO_SUBJECT.test(decodeHeader(first(root.headers, "subject")))
  );
}

const DELAY_WORDS = /has not yet been delivered|will (continue to )?retry|still trying|delivery (has been |is )?delayed|warning: message|temporarily deferred|not been delivered yet|delay(ed)? notification|will be retried/i;

/**
 * A plain-text bounce: the failed addresses (X-Failed-Recipients, else those the
 * explanation names that are not the bounce's own), each judged by the words that
 * follow it, or by the whole explanation.
 */
export function readTextBounce(root: MimeEntity, explanation: string): ReportEntry[] {
  const own = new Set(
    ["from", "to", "reply-to", "sender", "return-path"].flatMap((h) => (root.headers.get(h) ?? []).flatMap((v) => findAddresses(v, 5))),
  );
  const originalFrom = findAddresses(originalHeaders(root)?.get("from")?.[0] ?? "", 2);
  for (const a of originalFrom) own.add(a);
  const failed = (root.headers.get("x-failed-recipients") ?? []).flatMap((v) => findAddresses(v, 20));
  // An address only counts with a domain; "ada" alone is never charged to anyone else.
  const named = failed.length ? failed : findAddresses(explanation, 20).filter((a) => !own.has(a) && !/^(mailer-daemon|postmaster)@/i.test(a));
  if (DELAY_WORDS.test(explanation) && !BOUNCE_OPENING.test(explanation)) {
    return [{ recipient: named[0] ?? null, alternates: [], reason: "delayed", kind: "not-a-bounce", statusCode: findStatus(explanation) ?? null, detail: squeeze(explanation) }];
  }
  const judgeNear = (address: string | null): ReportEntry => {
    // The words about this address: up to the next failed address the explanation names.
    const near = textNear(explanation, address, named);
    const words = near && (findStatus(near) || findReplyCode(near.slice(address!.length))) ? near : explanation;
    const judgement = judgeFailure({ text: words, command: findCommand(words) ?? (named.length <= 1 ? findCommand(explanation) : undefined) });
    return { recipient: address, alternates: [], ...judgement, statusCode: findStatus(words) ?? codeText(findReplyCode(words)), detail: squeeze(words) };
  };
  return named.length > 0 ? named.map(judgeNear) : [judgeNear(null)];
}
