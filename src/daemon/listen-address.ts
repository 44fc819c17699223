// layer: daemon (pure)
// job: the address an HTTP listener is given on the command line (`ADDR:PORT`, `[ADDR6]:PORT`, `:PORT`), read and checked.

/** `ADDR:PORT` or `[ADDR6]:PORT` as given to --metrics-listen. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:9650`, `[::1]:9650`, `:9650` (all addresses); a TypeError naming what is wrong otherwise. */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) throw new TypeError(`${text} is not ADDR:PORT (e.g. 127.0.0.1:9650 or [::1]:9650)`);
  const port = Number(m[3]);
  if (port > 65535) throw new TypeError(`port ${port} is out of range (0-65535)`);
  return { host: m[1] ?? (m[2] === '' ? '::' : m[2]!), port };
}
