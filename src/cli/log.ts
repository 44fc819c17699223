// layer: cli (composition only)
// job: the daemon's logger (pino): one line per event, human-readable (colours on a TTY), or JSON lines with --json.
import { pino, type Logger } from 'pino';

/**
 * JSON lines (`{"level":30,"time":"...","pid":...,"source":"vrrp","type":"transition",...,"msg":"..."}`)
 * when `json`, else `[time] LEVEL: message` lines with the event's fields left out. Written
 * synchronously: a line logged before a crash or a SIGKILL is on disk.
 */
export async function daemonLogger(options: { json: boolean; level?: string }): Promise<Logger> {
  const level = options.level ?? 'info';
  if (options.json) {
    return pino({ level, timestamp: pino.stdTimeFunctions.isoTime, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  }
  const { default: pretty } = await import('pino-pretty'); // only for human-readable lines: a daemon logging JSON starts faster
  const stream = pretty({
    colorize: process.stdout.isTTY === true, sync: true, hideObject: true, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname',
  });
  return pino({ level, base: {} }, stream);
}
