// layer: tests (unit)
// job: SMTP_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK without a network: their keywords (located errors), conversion (SMTP host blocks, DNS retry 3), validation, and the pure codecs (SMTP replies, DNS round trip and garbage, hex strings, ICMP echo).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { decodeDnsMessage, DnsMessageError, encodeDnsMessage, encodeDnsQuery } from '../../src/check/dns-message.js';
import { dnsAnswerResult } from '../../src/check/dns.js';
import { matchesHexPattern } from '../../src/check/hex.js';
import { decodeEcho, encodeEchoRequest, internetChecksum } from '../../src/check/icmp.js';
import { decodeSmtpReply, SmtpReplyError } from '../../src/check/smtp-reply.js';
import { smtpStepResult } from '../../src/check/smtp.js';
import { udpReplyFailure } from '../../src/check/udp.js';
import type { DnsCheckConfig, UdpCheckConfig } from '../../src/check/types.js';
import { CheckConfigError, validateCheck } from '../../src/check/validate.js';
import { readHexString, HexStringError } from '../../src/config/hex-string.js';
import { convertHealthChecks } from '../../src/daemon/convert.js';
import { loadConfig } from '../../src/config/index.js';
import { errors, parse, keepalivedSamples } from '../helpers/config.js';

const rs = (body: string): string => `virtual_server 10.0.0.1 25 {\n    real_server 10.0.0.2 25 {\n${body}\n    }\n}\n`;

test('SMTP replies: single-line, multi-line (RFC 5321 §4.2), bare LF, partial text waits for more', (t) => {
  t.deepEqual(decodeSmtpReply('220 mx.example ESMTP\r\n'), { reply: { code: 220, lines: ['mx.example ESMTP'] }, used: 22 });
  t.deepEqual(decodeSmtpReply('250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\nQUIT'), { reply: { code: 250, lines: ['mx.example', 'PIPELINING', '8BITMIME'] }, used: 46 });
  t.deepEqual(decodeSmtpReply('221\n'), { reply: { code: 221, lines: [''] }, used: 4 });
  t.is(decodeSmtpReply('220 mx'), undefined);
  t.is(decodeSmtpReply('250-first\r\n250 sec'), undefined, 'a multi-line reply is complete only at its last line');
});

test('SMTP replies: garbage and mixed codes are a typed error naming the line', (t) => {
  t.throws(() => decodeSmtpReply('HTTP/1.1 400 Bad Request\r\n'), { instanceOf: SmtpReplyError, message: /not an SMTP reply line: "HTTP\/1.1 400 Bad Request"/ });
  t.throws(() => decodeSmtpReply('250-a\r\n220 b\r\n'), { instanceOf: SmtpReplyError, message: /reply code 220 inside a 250 reply/ });
  t.throws(() => decodeSmtpReply('2200 x\r\n'), { instanceOf: SmtpReplyError });
  t.throws(() => decodeSmtpReply('x'.repeat(70_000)), { instanceOf: SmtpReplyError, message: /longer than/ });
});

test('SMTP steps: 220 greeting, 250 to HELO, any reply to QUIT (keepalived\'s smtp_engine_thread)', (t) => {
  t.is(smtpStepResult('greeting', { code: 220, lines: ['hi'] }, 'SMTP x'), undefined);
  t.like(smtpStepResult('greeting', { code: 554, lines: ['no service'] }, 'SMTP x'), { reason: 'smtp-reply', replyCode: 554, message: 'SMTP x: greeting answered 554 no service, expected 220' });
  t.like(smtpStepResult('HELO', { code: 501, lines: [] }, 'SMTP x'), { reason: 'smtp-reply', replyCode: 501 });
  t.is(smtpStepResult('QUIT', { code: 500, lines: [] }, 'SMTP x'), undefined);
});

test('DNS: a query and an answer round-trip through encode and decode', (t) => {
  const q = decodeDnsMessage(encodeDnsQuery(0xbeef, 'www.example.com', 'AAAA'));
  t.deepEqual(q, { id: 0xbeef, response: false, opcode: 0, recursionDesired: true, rcode: 0, questions: [{ name: 'www.example.com.', type: 28, class: 1 }], answers: [], authorityCount: 0, additionalCount: 0 });
  const answer = { id: 7, response: true, opcode: 0, recursionDesired: true, rcode: 3, questions: [{ name: '.', type: 6, class: 1 }], answers: [{ name: 'a.b.', type: 1, class: 1, ttl: 300, data: Buffer.from([10, 0, 0, 1]) }] };
  t.deepEqual(decodeDnsMessage(encodeDnsMessage(answer)), { ...answer, authorityCount: 0, additionalCount: 0 });
});

test('DNS: compressed names decode; truncated bytes, pointer loops and bad label bytes are DnsMessageError', (t) => {
  const m = encodeDnsMessage({ id: 1, response: true, opcode: 0, recursionDesired: false, rcode: 0, questions: [{ name: 'example.com', type: 1, class: 1 }], answers: [] });
  const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
  const withAnswer = Buffer.concat([m, rr]);
  withAnswer.writeUInt16BE(1, 6);
  t.is(decodeDnsMessage(withAnswer).answers[0]?.name, 'example.com.');
  t.throws(() => decodeDnsMessage(Buffer.from([1, 2, 3])), { instanceOf: DnsMessageError, message: /truncated header/ });
  t.throws(() => decodeDnsMessage(withAnswer.subarray(0, withAnswer.length - 2)), { instanceOf: DnsMessageError, message: /truncated record data/ });
  const loop = Buffer.from(withAnswer);
  loop.writeUInt16BE(0xc000 | 12, 12); // the question's name points at itself
  t.throws(() => decodeDnsMessage(loop), { instanceOf: DnsMessageError, message: /loop/ });
  const badLabel = Buffer.from(m);
  badLabel[12] = 0x80;
  t.throws(() => decodeDnsMessage(badLabel), { instanceOf: DnsMessageError, message: /bad label length/ });
});

test('DNS verdict: NOERROR is success (with or without answers, as keepalived), another RCODE fails naming it', (t) => {
  const config = validateCheck({ kind: 'DNS_CHECK', connectIp: '10.0.0.2', connectPort: 53 }).config as DnsCheckConfig;
  const answer = (rcode: number) => encodeDnsMessage({ id: 1, response: true, opcode: 0, recursionDesired: true, rcode, questions: [], answers: [] });
  t.deepEqual(dnsAnswerResult(config, answer(0)), { ok: true });
  t.like(dnsAnswerResult(config, answer(3)), { ok: false, reason: 'dns-rcode', replyCode: 3, message: 'DNS 10.0.0.2:53 SOA .: NXDOMAIN' });
  t.like(dnsAnswerResult(config, answer(2)), { ok: false, reason: 'dns-rcode', message: 'DNS 10.0.0.2:53 SOA .: SERVFAIL' });
});

test('hex strings as keepalived reads them; require_reply patterns with x nibbles', (t) => {
  t.is(readHexString('Ab12f 3 456 546443123', false), 'ab120f034506546443120' + '3');
  t.is(readHexString('0aXx', true), '0axx');
  t.throws(() => readHexString('0g', false), { instanceOf: HexStringError, message: /`g` is not a hex digit/ });
  t.throws(() => readHexString('0x', false), { instanceOf: HexStringError });
  t.throws(() => readHexString('  ', false), { instanceOf: HexStringError, message: 'no hex digits' });
  t.true(matchesHexPattern(Buffer.from([0x0a, 0x5f]), '0ax5'.replace('x5', '5x')));
  t.false(matchesHexPattern(Buffer.from([0x0b]), '0a'));
  t.true(matchesHexPattern(Buffer.from([0x0a]), '0aff'), 'a shorter reply is compared on its own length');
});

test('UDP reply verdict: length bounds, then the pattern', (t) => {
  const config = validateCheck({ kind: 'UDP_CHECK', connectIp: '10.0.0.2', connectPort: 9, requireReply: true, replyHex: '6fxx', minReplyBytes: 2, maxReplyBytes: 4 }).config as UdpCheckConfig;
  t.is(udpReplyFailure(config, Buffer.from('ok')), undefined);
  t.like(udpReplyFailure(config, Buffer.from('o')), { reason: 'reply-mismatch', message: 'UDP 10.0.0.2:9: reply of 1 bytes, expected 2..4' });
  t.like(udpReplyFailure(config, Buffer.from('okokok')), { reason: 'reply-mismatch' });
  t.like(udpReplyFailure(config, Buffer.from('no')), { reason: 'reply-mismatch', message: 'UDP 10.0.0.2:9: reply 6e6f does not match 6fxx' });
});

test('ICMP echo: the IPv4 checksum verifies, a reply decodes from behind its IP header, other types and bad checksums do not', (t) => {
  const request = encodeEchoRequest(false, 0x1234, 7, Buffer.from('token'));
  t.is(internetChecksum(request), 0);
  const reply = Buffer.from(request);
  reply[0] = 0;
  reply.writeUInt16BE(0, 2);
  reply.writeUInt16BE(internetChecksum(reply), 2);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip[9] = 1;
  t.deepEqual(decodeEcho(false, Buffer.concat([ip, reply])), { type: 0, code: 0, identifier: 0x1234, sequence: 7, payload: Buffer.from('token') });
  const corrupt = Buffer.concat([ip, reply]);
  corrupt[28] = (corrupt[28] ?? 0) ^ 1;
  t.is(decodeEcho(false, corrupt), undefined);
  const unreachable = Buffer.concat([ip, Buffer.from([3, 3, 0, 0, 0, 0, 0, 0])]);
  t.is(decodeEcho(false, unreachable), undefined);
  const v6 = encodeEchoRequest(true, 1, 2, Buffer.from('x'));
  t.like(decodeEcho(true, v6), { type: 128, identifier: 1, sequence: 2 });
});

test('validation: each new checker\'s settings rejected with the field named; defaults resolved', (t) => {
  const rejects = (spec: object, field: string, message?: RegExp): void => {
    const error = t.throws(() => validateCheck(spec as never, { address: '10.0.0.2', port: 25 }), { instanceOf: CheckConfigError });
    t.is(error?.field, field);
    if (message) t.regex(error?.message ?? '', message);
  };
  rejects({ kind: 'SMTP_CHECK', heloName: 'a\r\nMAIL FROM' }, 'check.heloName', /line breaks/);
  rejects({ kind: 'UDP_CHECK', payloadHex: 'abc' }, 'check.payloadHex');
  rejects({ kind: 'UDP_CHECK', minReplyBytes: 9, maxReplyBytes: 3 }, 'check.minReplyBytes', /every reply would fail/);
  rejects({ kind: 'DNS_CHECK', type: 'PTR' }, 'check.type', /A, NS, CNAME, SOA, MX, TXT, AAAA/);
  rejects({ kind: 'DNS_CHECK', name: 'a..b' }, 'check.name');
  rejects({ kind: 'PING_CHECK', bindTo: '::1' }, 'check.bindTo', /family/);
  rejects({ kind: 'PING_CHECK', connectPort: 80 }, 'check.connectPort', /unknown setting/);
  t.like(validateCheck({ kind: 'SMTP_CHECK' }, { address: '10.0.0.2', port: 25 }).config, { heloName: 'smtpchecker.keepalived.org', connectIp: '10.0.0.2', connectPort: 25 });
  t.like(validateCheck({ kind: 'DNS_CHECK' }, { address: '10.0.0.2', port: 53 }).config, { type: 'SOA', name: '.' });
  t.like(validateCheck({ kind: 'UDP_CHECK' }, { address: '10.0.0.2', port: 9 }).config, { requireReply: false, minReplyBytes: 0, maxReplyBytes: 255 });
  t.like(validateCheck({ kind: 'UDP_CHECK', replyHex: '00' }, { address: '10.0.0.2', port: 9 }).config, { requireReply: true });
});

test('keywords: bad values are located errors at their line and column', (t) => {
  t.deepEqual(errors(parse(rs('        UDP_CHECK {\n            payload 0a zz\n        }'))), ['keepalived.conf:4:21: error: payload expects a hex string such as `01 ab23`: `z` is not a hex digit']);
  t.deepEqual(errors(parse(rs('        UDP_CHECK {\n            max_reply_length 70000\n        }'))).length, 1);
  t.regex(errors(parse(rs('        DNS_CHECK {\n            type PTR\n        }')))[0] ?? '', /^keepalived\.conf:4:18: error: .*PTR/);
  t.regex(errors(parse(rs('        DNS_CHECK {\n            name a..b\n        }')))[0] ?? '', /^keepalived\.conf:4:18: error: name expects a domain name/);
  t.regex(errors(parse(rs('        SMTP_CHECK {\n            host {\n                connect_ip 10.0.0.300\n            }\n        }')))[0] ?? '', /^keepalived\.conf:5:28: error: /);
  t.regex(errors(parse(rs('        FILE_CHECK {\n        }')))[0] ?? '', /^keepalived\.conf:3:9: error: .*FILE_CHECK/);
});

test('conversion: SMTP host blocks are checkers of their own (keepalived 2.2), DNS retries 3 times by default, PING has no port', (t) => {
  const r = parse(rs(`        SMTP_CHECK {
            helo_name foo.bar.com
            connect_timeout 10
            host {
                connect_ip 172.16.1.11
            }
            host {
                connect_ip 192.168.155.10
                connect_port 587
                retry 5
            }
        }
        DNS_CHECK {
            type A
            name example.com
            connect_port 53
        }
        PING_CHECK {
        }
        UDP_CHECK {
            payload 01 02
            require_reply 0x
        }`));
  t.deepEqual(errors(r), []);
  const c = convertHealthChecks(r.config);
  const specs = c.virtualServers[0]?.realServers[0]?.checkers ?? [];
  t.like(specs, [
    { kind: 'SMTP_CHECK', connectIp: '172.16.1.11', heloName: 'foo.bar.com', connectTimeoutMs: 10_000 },
    { kind: 'SMTP_CHECK', connectIp: '192.168.155.10', connectPort: 587, retry: 5, connectTimeoutMs: 10_000 },
    { kind: 'DNS_CHECK', type: 'A', name: 'example.com', connectPort: 53, retry: 3 },
    { kind: 'PING_CHECK' },
    { kind: 'UDP_CHECK', payloadHex: '0102', requireReply: true, replyHex: '0x' },
  ]);
  t.is(specs.length, 5);
  const plain = convertHealthChecks(parse(rs('        SMTP_CHECK {\n        }')).config);
  t.like(plain.virtualServers[0]?.realServers[0]?.checkers, [{ kind: 'SMTP_CHECK' }]);
});

test('keepalived\'s doc/samples with SMTP_CHECK, UDP_CHECK, PING_CHECK (and the IPv6 one\'s SMTP_CHECK) are accepted and convert to their checkers', (t) => {
  const dir = keepalivedSamples(t);
  if (dir === undefined) return;
  const kinds = (file: string): string[][] => {
    const r = loadConfig(path.join(dir, file), { configId: 'high' });
    t.deepEqual(errors(r), [], file);
    const c = convertHealthChecks(r.config);
    t.deepEqual(c.diagnostics.filter((d) => d.severity === 'error'), [], file);
    return c.virtualServers.flatMap((vs) => vs.realServers.map((rs) => (rs.checkers ?? []).map((k) => `${k.kind} ${'connectIp' in k && k.connectIp ? k.connectIp : rs.address}`)));
  };
  t.deepEqual(kinds('keepalived.conf.SMTP_CHECK'), [
    ['SMTP_CHECK 172.16.1.10'],
    ['SMTP_CHECK 172.16.1.11', 'SMTP_CHECK 192.168.155.10', 'SMTP_CHECK 64.233.167.99'],
    ['SMTP_CHECK 172.16.1.12', 'SMTP_CHECK 192.168.155.11', 'SMTP_CHECK 64.233.167.100'],
  ]);
  t.deepEqual(kinds('keepalived.conf.PING_CHECK'), [['PING_CHECK 192.168.200.6']]);
  t.deepEqual(kinds('keepalived.conf.UDP_CHECK'), [['UDP_CHECK 192.168.200.6']]);
  t.true(kinds('keepalived.conf.IPv6').flat().some((k) => k.startsWith('SMTP_CHECK ')));
});
