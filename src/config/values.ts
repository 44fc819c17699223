// layer: config (pure)
// job: argument values as keepalived reads them: whole numbers, timers, booleans, addresses (canonical text), prefixes.
import { isIPv4, isIPv6 } from 'node:net';
import { encodeIPv6, formatIPv6 } from '../bytes.js';
import type { AddressFamily } from './model.js';

/** A decimal whole number (keepalived's strtoul/strtol base 10: optional sign, digits only). */
export function parseInteger(text: string, signed: boolean): number | undefined {
  const first = text.charCodeAt(0);
  let i = first === 43 /* + */ || (signed && first === 45) /* - */ ? 1 : 0;
  if (i >= text.length) return undefined;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

const SECONDS = /^\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Digits only: the common case, read without the regular expression. */
function isDigits(text: string): boolean {
  if (text.length === 0 || text.length > 15) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A decimal number of seconds as strtod reads it (no sign, no hex, no inf/nan), or undefined. */
export function parseSeconds(text: string): number | undefined {
  if (isDigits(text)) return Number(text);
  if (!SECONDS.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Seconds → milliseconds at keepalived's micro-second resolution (so 1.1 s is exactly 1100 ms). */
export function secondsToMs(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

/** Milliseconds → the shortest seconds text that reads back to the same value. */
export function msToSecondsText(ms: number): string {
  const us = Math.round(ms * 1e3);
  const whole = Math.floor(us / 1e6);
  const frac = us % 1e6;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(6, '0').replace(/0+$/, '')}`;
}

const TRUE_WORDS = new Set(['on', 'true', 'yes']);
const FALSE_WORDS = new Set(['off', 'false', 'no']);

/** keepalived's check_true_false(): on|true|yes and off|false|no, lower case only. */
export function parseBool(text: string): boolean | undefined {
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

/**
 * A dotted quad in its canonical form (four numbers 0..255, no leading zeros): the common case,
 * checked without node:net's regular expression. Anything else goes to isIPv4.
 */
function isPlainIPv4(text: string): boolean {
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46 /* . */) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 48);
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return parts === 4;
}

/** An IPv4 or IPv6 address; IPv6 is returned in RFC 5952 form so that equal addresses compare equal. */
export function parseAddress(text: string): { address: string; family: AddressFamily } | undefined {
  if (isPlainIPv4(text) || isIPv4(text)) return { address: text, family: 4 };
  // node:net accepts a zone (`fe80::1%eth0`); keepalived's inet_pton does not, and neither do the kernel's address attributes.
  if (isIPv6(text) && !text.includes('%')) return { address: formatIPv6(encodeIPv6(text)), family: 6 };
  return undefined;
}

/** `ADDR` or `ADDR/LEN`; undefined prefix when none was written. */
export function parseAddressPrefix(text: string): { address: string; family: AddressFamily; prefixLength?: number } | 'bad-prefix' | undefined {
  const slash = text.indexOf('/');
  const addr = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!addr || slash < 0) return addr;
  const len = parseInteger(text.slice(slash + 1), false);
  if (len === undefined || len > (addr.family === 4 ? 32 : 128)) return 'bad-prefix';
  return { ...addr, prefixLength: len };
}

/** An IPv4 address as a 32-bit number (for ranges). */
export function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}
