// layer: behaviour (check)
// job: DNS_CHECK: one query over UDP; the first reply with the query's id and QR set decides: RCODE NOERROR is success (keepalived's check_dns.c).
import { randomInt } from 'node:crypto';
import { decodeDnsMessage, DnsMessageError, encodeDnsQuery, rcodeName } from './dns-message.js';
import type { AttemptSignal } from './signal.js';
import { hostPort } from './tcp.js';
import type { CheckResult, DnsCheckConfig } from './types.js';
import { udpExchange } from './udp.js';

/** The answer's verdict: NOERROR is success, another RCODE a `dns-rcode` failure. */
export function dnsAnswerResult(config: DnsCheckConfig, answer: Buffer): CheckResult {
  const where = `DNS ${hostPort(config.connectIp, config.connectPort)} ${config.type} ${config.name}`;
  const m = decodeDnsMessage(answer);
  if (m.rcode !== 0) return { ok: false, reason: 'dns-rcode', message: `${where}: ${rcodeName(m.rcode)}`, replyCode: m.rcode };
  return { ok: true };
}

/** One DNS_CHECK attempt. Never rejects. */
export async function probeDns(config: DnsCheckConfig, signal: AttemptSignal): Promise<CheckResult> {
  const id = randomInt(0, 0x10000);
  const where = `DNS ${hostPort(config.connectIp, config.connectPort)} ${config.type} ${config.name}`;
  let malformed: string | undefined;
  // keepalived waits on past a datagram that is too short, of another id, or not a response.
  const ours = (data: Buffer): boolean => {
    if (data.length < 12 || data.readUInt16BE(0) !== id || (data[2]! & 0x80) === 0) return false;
    try {
      decodeDnsMessage(data);
      return true;
    } catch (error) {
      if (!(error instanceof DnsMessageError)) throw error;
      malformed = error.message;
      return true;
    }
  };
  const outcome = await udpExchange(config, encodeDnsQuery(id, config.name, config.type), signal, ours);
  if (outcome.kind === 'failed') return { ...outcome.failure, message: outcome.failure.message.replace(/^UDP /, 'DNS ') };
  if (outcome.kind === 'silence') return { ok: false, reason: 'no-reply', message: `${where}: no answer within ${config.connectTimeoutMs} ms` };
  if (malformed !== undefined) return { ok: false, reason: 'protocol-error', message: `${where}: ${malformed}` };
  return dnsAnswerResult(config, outcome.data);
}
