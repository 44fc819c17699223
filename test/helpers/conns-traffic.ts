// layer: test helpers (IPVS tier)
// job: real TCP connections through a virtual service: a server that answers and holds connections, clients from chosen addresses driven over stdin.
//
//   node dist/test/helpers/conns-traffic.js server PORT
//   node dist/test/helpers/conns-traffic.js clients HOST PORT '{"10.1.0.10": 12, ...}'
//     then on stdin: `close ADDRESS N` (end N connections of ADDRESS), `exit`
// Each prints `ready` once listening / once every connection has had its answer.
import net from 'node:net';
import readline from 'node:readline';

function server(port: number): void {
  const srv = net.createServer((socket) => {
    socket.on('data', () => socket.write('ok'));
    socket.on('end', () => socket.end());
    socket.on('error', () => undefined);
  });
  srv.listen(port, '0.0.0.0', () => console.log('ready'));
}

async function clients(host: string, port: number, spec: Record<string, number>): Promise<void> {
  const open = new Map<string, net.Socket[]>();
  const connect = (localAddress: string): Promise<net.Socket> => new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress }, () => socket.write('x'));
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
  });
  for (const [address, count] of Object.entries(spec)) {
    const sockets: net.Socket[] = [];
    for (let i = 0; i < count; i++) sockets.push(await connect(address));
    open.set(address, sockets);
  }
  console.log('ready');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [command, address, n] = line.trim().split(/\s+/);
    if (command === 'exit') break;
    if (command === 'close' && address !== undefined) {
      const sockets = open.get(address) ?? [];
      for (const s of sockets.splice(0, Number(n ?? sockets.length))) s.end();
      console.log('closed');
    }
  }
  for (const sockets of open.values()) for (const s of sockets) s.destroy();
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server') server(Number(args[0]));
else if (mode === 'clients') await clients(args[0] as string, Number(args[1]), JSON.parse(args[2] as string) as Record<string, number>);
else {
  console.error('usage: conns-traffic.js server PORT | clients HOST PORT SPEC');
  process.exit(2);
}
