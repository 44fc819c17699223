// layer: config (pure)
// job: keepalived's free-format hex strings (read_hex_str, for UDP_CHECK payload and require_reply) as lowercase hex, `x` kept as a wildcard nibble.

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
