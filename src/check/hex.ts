// layer: behaviour (check, pure)
// job: UDP_CHECK's hex strings: the bytes of a payload, and a reply compared against require_reply's pattern (`x` a nibble not compared).

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
