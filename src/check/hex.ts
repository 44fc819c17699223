// layer: behaviour (check, pure)
// job: keepalived's free-format hex strings (UDP_CHECK payload, require_reply): words of hex digits, `x` a nibble not compared; and the masked compare of a reply.

/** Text that is not a hex string in keepalived's format. */
export class HexStringError extends Error {
  override name = 'HexStringError';
  constructor(readonly column: number, problem: string) {
    super(problem);
  }
}

/**
 * keepalived's read_hex_str: whitespace separates words; each word is read two digits a byte, an
 * odd last digit being the byte's low nibble (`Ab12f 3` → AB 12 0F 03). With `wildcards`, `x`/`X`
 * is a nibble that matches anything. Returns lowercase hex (`x` kept) with an even length.
 */
export function readHexString(text: string, wildcards: boolean): string {
  let out = '';
  const re = /\S+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const word = m[0];
    for (let i = 0; i < word.length; i++) {
      const c = word[i] as string;
      if (!/[0-9a-fA-F]/.test(c) && !(wildcards && (c === 'x' || c === 'X'))) {
        throw new HexStringError(m.index + i, `\`${c}\` is not a hex digit${wildcards ? ' (or x)' : ''}`);
      }
    }
    const w = word.toLowerCase();
    for (let i = 0; i < w.length; i += 2) out += i + 1 < w.length ? w.slice(i, i + 2) : `0${w[i] as string}`;
  }
  if (out === '') throw new HexStringError(0, 'no hex digits');
  return out;
}

/** The bytes of a hex string without wildcards. */
export function hexBytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

/**
 * Whether `reply` matches `pattern` (hex, `x` = any nibble) over the shorter of the two, as
 * keepalived compares (a reply shorter than the pattern is compared on its own length).
 */
export function matchesHexPattern(reply: Uint8Array, pattern: string): boolean {
  const n = Math.min(reply.length, pattern.length / 2);
  for (let i = 0; i < n; i++) {
    const byte = reply[i] as number;
    const hi = pattern[2 * i] as string;
    const lo = pattern[2 * i + 1] as string;
    if (hi !== 'x' && parseInt(hi, 16) !== byte >> 4) return false;
    if (lo !== 'x' && parseInt(lo, 16) !== (byte & 0xf)) return false;
  }
  return true;
}
