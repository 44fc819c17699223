// layer: config (pure)
// job: keyword pieces several blocks share: notify scripts, track_interface/track_script lists, forwarding methods.
import type { ForwardingMethod, TrackedFile, TrackedInterface, TrackedProcess, TrackedScript, VrrpNotify } from '../model.js';
import { kw, type BuildContext, type Keyword, type ListEntry, type ListSpec, type Statement } from './types.js';

/** The notify_* keywords of instances and sync groups. */
export function notifyKeywords<T extends VrrpNotify>(): Keyword<T>[] {
  const script = (name: string, key: keyof VrrpNotify): Keyword<T> => kw<T>(name, 1, Infinity, '<SCRIPT>|"<SCRIPT ARGS>" [user [group]]', (t, st, cx) => {
    const s = cx.script(st, 0);
    if (s) t[key] = s;
  });
  return [
    script('notify', 'notify'),
    script('notify_master', 'notifyMaster'),
    script('notify_backup', 'notifyBackup'),
    script('notify_fault', 'notifyFault'),
    script('notify_stop', 'notifyStop'),
    script('notify_master_rx_lower_pri', 'notifyMasterRxLowerPri'),
  ];
}

/** A weight option `weight N [reverse|noreverse|no_reverse]` of a track entry. */
function trackWeight(e: ListEntry, cx: BuildContext, min: number, max: number): { weight?: number; reverse?: boolean } {
  const w = e.options.find((o) => o.name.text === 'weight');
  const out: { weight?: number; reverse?: boolean } = {};
  if (w) {
    const v = cx.int({ keyword: w.name, args: w.args }, 0, min, max);
    if (v !== undefined) out.weight = v;
  }
  if (cx.hasOption(e, 'reverse')) out.reverse = true;
  if (cx.hasOption(e, 'noreverse') || cx.hasOption(e, 'no_reverse')) out.reverse = false;
  return out;
}

/** `track_interface { IF [weight -253..253 [reverse]] ... }`. */
export function trackInterfaceSpec<T extends { trackInterfaces: TrackedInterface[] }>(): ListSpec<T> {
  return {
    name: 'track_interface',
    options: { weight: 1, reverse: 0, noreverse: 0, no_reverse: 0 },
    canStart: (w) => !/^[+-]?\d+$/.test(w.text),
    entry: (t, e, cx) => t.trackInterfaces.push({ name: e.head.text, ...trackWeight(e, cx, -253, 253), location: cx.loc(e.head) }),
  };
}

/** `track_script { SCRIPT [weight -253..253 [reverse|noreverse]] ... }`. */
export function trackScriptSpec<T extends { trackScripts: TrackedScript[] }>(): ListSpec<T> {
  return {
    name: 'track_script',
    options: { weight: 1, reverse: 0, noreverse: 0, no_reverse: 0 },
    canStart: (w) => !/^[+-]?\d+$/.test(w.text),
    entry: (t, e, cx) => t.trackScripts.push({ name: e.head.text, ...trackWeight(e, cx, -253, 253), location: cx.loc(e.head) }),
  };
}

/** A `{ NAME [weight -254..254 [reverse|noreverse]] ... }` list into `key` (keepalived's range for files and processes). */
function trackNamedSpec<T>(name: string, key: 'trackFiles' | 'trackProcesses'): ListSpec<T> {
  return {
    name,
    options: { weight: 1, reverse: 0, noreverse: 0, no_reverse: 0 },
    canStart: (w) => !/^[+-]?\d+$/.test(w.text),
    entry: (t, e, cx) => ((t as Record<typeof key, TrackedFile[] | undefined>)[key] ??= []).push({ name: e.head.text, ...trackWeight(e, cx, -254, 254), location: cx.loc(e.head) }),
  };
}

/** `track_file { NAME [weight -254..254 [reverse|noreverse]] ... }`. */
export function trackFileSpec<T extends { trackFiles?: TrackedFile[] }>(): ListSpec<T> {
  return trackNamedSpec<T>('track_file', 'trackFiles');
}

/** `track_process { NAME [weight -254..254 [reverse|noreverse]] ... }`. */
export function trackProcessSpec<T extends { trackProcesses?: TrackedProcess[] }>(): ListSpec<T> {
  return trackNamedSpec<T>('track_process', 'trackProcesses');
}

const METHODS = ['NAT', 'DR', 'TUN'] as const;

/** `lvs_method NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]` (also lb_kind; the old `PASSTHRU` reads as DR). */
export function forwardingMethod(st: Statement, cx: BuildContext): ForwardingMethod | undefined {
  const first = st.args[0];
  if (first?.text.toUpperCase() === 'PASSTHRU') {
    cx.warning(first, '`PASSTHRU` is keepalived 1.x for DR', 'deprecated');
    return { kind: 'DR' };
  }
  const kind = cx.oneOf(st, 0, METHODS, true);
  if (!kind) return undefined;
  const m: ForwardingMethod = { kind };
  let bad = false;
  for (let i = 1; i < st.args.length; i++) {
    const word = st.args[i]?.text;
    if (kind !== 'TUN') {
      cx.warning(st.args[i] as NonNullable<(typeof st.args)[number]>, `${kind} takes no options; ${word} ignored`, 'extra-argument');
      break;
    }
    if (word === 'type') {
      const t = cx.oneOf(st, ++i, ['ipip', 'gue', 'gre'] as const);
      if (t) m.tunnelType = t;
      else bad = true;
      if (t === 'gue' && st.args[i + 1]?.text === 'port') {
        i += 2;
        const port = cx.uint(st, i, 1, 65535);
        if (port !== undefined) m.tunnelPort = port;
        else bad = true;
      }
    } else if (word === 'nocsum' || word === 'csum' || word === 'remcsum') {
      m.tunnelChecksum = word;
    } else {
      cx.error(st.args[i] as NonNullable<(typeof st.args)[number]>, `lvs_method TUN: unknown option \`${word}\` (type ipip|gue port N|gre, nocsum|csum|remcsum)`);
      bad = true;
    }
  }
  if (m.tunnelType === 'gue' && m.tunnelPort === undefined && !bad) {
    cx.error(st.keyword, 'lvs_method TUN type gue needs `port N`', 'missing-argument');
    bad = true;
  }
  return bad ? undefined : m;
}
