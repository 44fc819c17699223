// layer: behaviour (check, pure)
// job: SMTP replies (RFC 5321 §4.2): split received text into complete replies, single- or multi-line, each with its code.

/** A reply line that is not `DDD`, `DDD text` or `DDD-text` (RFC 5321 §4.2), or a reply that grows past the bound. */
export class SmtpReplyError extends Error {
  override name = 'SmtpReplyError';
  constructor(readonly line: string, problem: string) {
    super(`${problem}: ${JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}…` : line)}`);
  }
}

/** One complete reply: its code and the text of each line (code and separator removed). */
export interface SmtpReply {
  code: number;
  lines: string[];
}

/** Longest reply text accepted (keepalived's buffer is 512 bytes a line; servers send a few lines at most). */
export const MAX_SMTP_REPLY_BYTES = 64 * 1024;

/**
 * The first complete reply in `text` and the bytes it used, or undefined when more text is needed.
 * Lines end in CRLF (a bare LF is accepted, as keepalived accepts it). Continuation lines carry
 * `DDD-`, the last line `DDD ` or just `DDD`; every line of one reply must carry the same code.
 * SmtpReplyError on a malformed line or a reply longer than MAX_SMTP_REPLY_BYTES.
 */
export function decodeSmtpReply(text: string): { reply: SmtpReply; used: number } | undefined {
  let at = 0;
  let code: number | undefined;
  const lines: string[] = [];
  for (;;) {
    const nl = text.indexOf('\n', at);
    if (nl < 0) {
      if (text.length > MAX_SMTP_REPLY_BYTES) throw new SmtpReplyError(text.slice(at), `reply longer than ${MAX_SMTP_REPLY_BYTES} bytes`);
      return undefined;
    }
    const line = text.slice(at, text[nl - 1] === '\r' ? nl - 1 : nl);
    at = nl + 1;
    const m = /^([2-5][0-5]\d)(?:([ -])(.*))?$/s.exec(line);
    if (!m) throw new SmtpReplyError(line, 'not an SMTP reply line');
    const lineCode = Number(m[1]);
    if (code !== undefined && lineCode !== code) throw new SmtpReplyError(line, `reply code ${lineCode} inside a ${code} reply`);
    code = lineCode;
    lines.push(m[3] ?? '');
    if (m[2] !== '-') return { reply: { code, lines }, used: at };
  }
}

/** `220 text` as one line for messages (the first line's text). */
export function describeSmtpReply(reply: SmtpReply): string {
  const first = reply.lines[0] ?? '';
  return first === '' ? String(reply.code) : `${reply.code} ${first}${reply.lines.length > 1 ? ' …' : ''}`;
}
