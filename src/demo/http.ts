// layer: demo (the site lab, shared with the site test)
// job: the site's processes, run inside namespaces: a real server's HTTP server, the client's steady traffic, and held (long-lived) connections.
//
//   node dist/src/demo/http.js server NAME PORT[,PORT...]
//     answers `GET /` with its NAME and closes (HTTP/1.0, no keep-alive: each request is a new
//     connection); `GET /hold` answers with its NAME and then echoes every byte until the client closes;
//     prints `c SOURCE_ADDRESS MS` for every connection it accepts; on stdin `answer normal`,
//     `answer never` (accepts and reads, never answers: a half-open server) or `answer after MS`
//     (a slow one) changes how it answers new requests, and prints `answer ...` back once it has
//   node dist/src/demo/http.js traffic HOST PORT INTERVAL_MS TIMEOUT_MS LOCAL_ADDRESS
//     one request every INTERVAL_MS on a new connection; prints `s SEQ SENT_MS` as it sends and
//     `r SEQ SENT_MS DONE_MS 1 SERVER` or `r SEQ SENT_MS DONE_MS 0 ERROR` when it ends (CLOCK_MONOTONIC
//     ms); on `exit` or end of stdin it stops sending, waits for the last answers, prints `done`.
//     LOCAL_ADDRESS `-`: no bind, as ordinary clients connect (see site-traffic.ts for why it matters)
//   node dist/src/demo/http.js hold HOST PORT LOCAL_ADDRESS COUNT
//     opens COUNT held connections, prints `ready OPEN FAILED {"rs1":n,...}`; on stdin `ping` prints
//     `alive N` (how many echo a byte within 3 s), `exit` closes them all; the ready line ends
//     with the connections' local ports as JSON
//   node dist/src/demo/http.js get HOST PORT LOCAL_ADDRESS COUNT TIMEOUT_MS
//     COUNT requests one after another, then prints `got OK FAILED {"rs1":n,...}` and exits
// Each mode prints `ready` (or the `ready ...` line) once it is serving.
import net from 'node:net';
import readline from 'node:readline';

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** How a real server answers `GET /`: at once, never (half-open), or after a delay (slow). */
type Answer = { kind: 'normal' } | { kind: 'never' } | { kind: 'after'; ms: number };

function answerFrom(line: string): Answer | undefined {
  const [word, how, ms] = line.trim().split(/\s+/);
  if (word !== 'answer') return undefined;
  if (how === 'normal' || how === 'never') return { kind: how };
  if (how === 'after' && Number(ms) >= 0) return { kind: 'after', ms: Number(ms) };
  return undefined;
}

function server(name: string, ports: number[]): void {
  let listening = 0;
  let answer: Answer = { kind: 'normal' };
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const next = answerFrom(line);
    if (!next) return;
    answer = next;
    console.log(line.trim());
  });
  for (const port of ports) {
    const srv = net.createServer((socket) => {
      // Every connection's source: the lab tells a balancer's health check from the clients' requests.
      console.log(`c ${socket.remoteAddress ?? '?'} ${monoMs().toFixed(1)}`);
      let head = '';
      let held = false;
      socket.on('data', (chunk) => {
        if (held) {
          socket.write(chunk);
          return;
        }
        head += chunk.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        if (head.startsWith('GET /hold')) {
          held = true;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n${name}\n`);
        } else if (answer.kind !== 'never') {
          const reply = (): void => { socket.end(`HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${name.length}\r\nConnection: close\r\n\r\n${name}`); };
          if (answer.kind === 'after') setTimeout(reply, answer.ms); else reply();
        }
      });
      socket.on('error', () => undefined);
    });
    srv.listen(port, '0.0.0.0', () => {
      if (++listening === ports.length) console.log('ready');
    });
  }
}

/** One request on a new connection: the answering server's name, or why it failed. */
function request(host: string, port: number, localAddress: string, timeoutMs: number): Promise<{ ok: boolean; what: string }> {
  return new Promise((resolve) => {
    let body = '';
    let settled = false;
    const finish = (ok: boolean, what: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, what });
    };
    const socket = net.connect({ host, port, ...(localAddress === '-' ? {} : { localAddress }) }, () => socket.write('GET / HTTP/1.0\r\nHost: site\r\n\r\n'));
    const timer = setTimeout(() => finish(false, 'timeout'), timeoutMs);
    socket.on('data', (d) => { body += d.toString('latin1'); });
    socket.on('end', () => {
      const name = body.split('\r\n\r\n')[1];
      finish(Boolean(body.startsWith('HTTP/1.0 200') && name), name || 'bad-response');
    });
    socket.on('error', (e: NodeJS.ErrnoException) => finish(false, e.code ?? 'error'));
  });
}

function traffic(host: string, port: number, intervalMs: number, timeoutMs: number, localAddress: string): void {
  let seq = 0;
  let stopping = false;
  let pending = 0;
  let next = monoMs();
  const tick = (): void => {
    if (stopping) return;
    const sent = monoMs();
    const n = seq++;
    pending++;
    console.log(`s ${n} ${sent.toFixed(1)}`);
    void request(host, port, localAddress, timeoutMs).then(({ ok, what }) => {
      console.log(`r ${n} ${sent.toFixed(1)} ${monoMs().toFixed(1)} ${ok ? 1 : 0} ${what}`);
      if (--pending === 0 && stopping) done();
    });
    // A fixed rate; slots missed while the loop was busy are skipped rather than sent in a burst.
    next = Math.max(next + intervalMs, monoMs());
    setTimeout(tick, next - monoMs());
  };
  const done = (): void => {
    console.log('done');
    process.exit(0);
  };
  readline.createInterface({ input: process.stdin }).on('line', (l) => { if (l.trim() === 'exit') stop(); }).on('close', () => stop());
  const stop = (): void => {
    stopping = true;
    if (pending === 0) done();
  };
  console.log('ready');
  tick();
}

/** A held connection: resolves with the server's name once its answer came, or undefined. */
function holdOne(host: string, port: number, localAddress: string): Promise<{ socket: net.Socket; name: string } | undefined> {
  return new Promise((resolve) => {
    let head = '';
    const socket = net.connect({ host, port, localAddress }, () => socket.write('GET /hold HTTP/1.1\r\nHost: site\r\n\r\n'));
    const timer = setTimeout(() => { socket.destroy(); resolve(undefined); }, 5000);
    const onData = (d: Buffer): void => {
      head += d.toString('latin1');
      const at = head.indexOf('\r\n\r\n');
      if (at < 0 || !head.slice(at + 4).includes('\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve({ socket, name: head.slice(at + 4).trim() });
    };
    socket.on('data', onData);
    socket.on('error', () => { clearTimeout(timer); resolve(undefined); });
  });
}

async function hold(host: string, port: number, localAddress: string, count: number): Promise<void> {
  const open: net.Socket[] = [];
  const ports: number[] = [];
  const names: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, count - i) }, () => holdOne(host, port, localAddress)));
    for (const held of batch) {
      if (!held) { failed++; continue; }
      held.socket.on('error', () => undefined);
      open.push(held.socket);
      ports.push(held.socket.localPort ?? 0);
      names[held.name] = (names[held.name] ?? 0) + 1;
    }
  }
  console.log(`ready ${open.length} ${failed} ${JSON.stringify(names)} ${JSON.stringify(ports)}`);
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line.trim() === 'exit') break;
    if (line.trim() === 'ping') console.log(`alive ${(await Promise.all(open.map(echoes))).filter(Boolean).length}`);
  }
  for (const s of open) s.destroy();
  process.exit(0);
}

async function get(host: string, port: number, localAddress: string, count: number, timeoutMs: number): Promise<void> {
  const names: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; i < count; i++) {
    const { ok, what } = await request(host, port, localAddress, timeoutMs);
    if (ok) names[what] = (names[what] ?? 0) + 1;
    else failed++;
  }
  console.log(`got ${count - failed} ${failed} ${JSON.stringify(names)}`);
}

/** Whether `socket` echoes one byte within 3 s. */
function echoes(socket: net.Socket): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) { resolve(false); return; }
    const timer = setTimeout(() => { socket.off('data', onData); resolve(false); }, 3000);
    const onData = (): void => { clearTimeout(timer); socket.off('data', onData); resolve(true); };
    socket.on('data', onData);
    socket.write('p');
  });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server') server(args[0] ?? 'unnamed', (args[1] ?? '80').split(',').map(Number));
else if (mode === 'traffic') traffic(args[0]!, Number(args[1]), Number(args[2]), Number(args[3]), args[4]!);
else if (mode === 'get') await get(args[0]!, Number(args[1]), args[2]!, Number(args[3]), Number(args[4]));
else if (mode === 'hold') await hold(args[0]!, Number(args[1]), args[2]!, Number(args[3]));
else {
  console.error('usage: http.js server NAME PORTS | traffic HOST PORT INTERVAL_MS TIMEOUT_MS LOCAL | hold HOST PORT LOCAL COUNT | get HOST PORT LOCAL COUNT TIMEOUT_MS');
  process.exit(2);
}
