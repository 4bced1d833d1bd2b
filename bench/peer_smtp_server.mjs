// npm smtp-server's command parsing in process, through its own classes, on
// the issue-14 command mix (15 lines, 667 times): the in-process peer figure
// of scripts/bench --peers. Prints one JSON object.
//
// Two figures, command lines per second:
//  - stream: SMTPStream, the Writable that splits the client's bytes into
//    command lines, fed the whole mix in 16 KiB writes (one socket read's
//    worth); its oncommand handler only counts. Line splitting only.
//  - connection: SMTPConnection, what smtp-server makes for each client
//    (SMTPServer.connect(), the method its listener calls), over an
//    in-memory Duplex in place of the socket, so that its command handlers
//    run: the line split, the command dispatch, MAIL and RCPT address and
//    parameter parsing, the application's callbacks and the replies written
//    (counted, discarded). One connection per 15-line block, because QUIT
//    closes it (and 10 unknown commands would); the connections are made
//    and greeted before the clock starts (smtp-server holds the greeting
//    100 ms to catch early talkers), then every block is pushed and the
//    clock stops when every connection has ended after its QUIT. The set-up
//    (SMTPConnection made, listeners, timers; not the 100 ms hold nor the
//    greeting, which run after it) is reported beside, per session.
// The server: no reverse DNS lookup, STARTTLS disabled (answered 500, as
// there is no TLS in memory), authOptional, no logger, every recipient
// refused with 550 so that DATA is answered 503 and every line is read as a
// command. Sockets' idle timers are not armed (setTimeout is a no-op here).
//
//   node bench/peer_smtp_server.mjs [--seconds 2] [--repetitions 5]
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';

const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const { SMTPServer } = require('smtp-server');
const { SMTPStream } = require('smtp-server/lib/smtp-stream.js');
const version = require('smtp-server/package.json').version;

const MIX = ['EHLO client.example.com', 'STARTTLS', 'EHLO client.example.com', 'AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=',
  'MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME', 'RCPT TO:<bob@example.org>',
  'RCPT TO:<carol.smith+tag@sub.example.net> NOTIFY=SUCCESS,FAILURE', 'DATA', 'RSET',
  'MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME', 'RCPT TO:<bob@example.org>', 'BDAT 1000 LAST',
  'NOOP', 'VRFY alice', 'QUIT'];
const BLOCK = Buffer.from(MIX.map(l => l + '\r\n').join(''));
const BLOCKS = 667;
const STREAM = Buffer.concat(Array(BLOCKS).fill(BLOCK));

// SMTPStream alone: the whole mix in 16 KiB writes; resolves to the lines seen.
function streamOnce() {
  return new Promise(resolve => {
    const parser = new SMTPStream();
    let lines = 0;
    parser.oncommand = (line, next) => { lines++; if (next) next(); };
    parser.on('finish', () => resolve(lines));
    for (let at = 0; at < STREAM.length; at += 16384) parser.write(STREAM.subarray(at, at + 16384));
    parser.end();
  });
}

// The socket an SMTPConnection reads from and writes to, in memory.
class MemorySocket extends Duplex {
  constructor() {
    super();
    this.written = 0;
    this.readyState = 'open';
    this.remoteAddress = '192.0.2.1'; this.remotePort = 50000;
    this.localAddress = '192.0.2.2'; this.localPort = 25;
  }
  _read() {}
  _write(chunk, encoding, callback) { this.written += chunk.length; callback(); }
  setTimeout() {}
}

const server = new SMTPServer({
  name: 'mx.example.org', disableReverseLookup: true, disabledCommands: ['STARTTLS'], authOptional: true,
  logger: false,
  onRcptTo(address, session, callback) {
    callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
  },
});

// BLOCKS connections, greeted, then one block each; resolves to
// [lines, seconds, reply octets, set-up seconds without the 100 ms hold].
async function connectionsOnce() {
  const sockets = [];
  const made = process.hrtime.bigint();
  for (let i = 0; i < BLOCKS; i++) {
    const socket = new MemorySocket();
    sockets.push(socket);
    server.connect(socket, {});
  }
  const setup = Number(process.hrtime.bigint() - made) / 1e9;
  await new Promise(resolve => setTimeout(resolve, 150)); // the 100 ms early-talker hold
  const greeted = sockets.reduce((n, s) => n + s.written, 0);
  const ended = sockets.map(s => new Promise(resolve => s.on('finish', resolve)));
  const start = process.hrtime.bigint();
  for (const s of sockets) s.push(BLOCK);
  await Promise.all(ended);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const written = sockets.reduce((n, s) => n + s.written, 0) - greeted;
  for (const s of sockets) s.destroy();
  return [BLOCKS * MIX.length, seconds, written, setup];
}

async function rate(once, seconds) {
  let lines = 0, elapsed = 0, written = 0, setup = 0;
  while (elapsed < seconds) {
    const [n, s, w, u] = await once();
    lines += n; elapsed += s; written += w; setup += u || 0;
  }
  return [lines / elapsed, written / lines, setup / (lines / MIX.length)];
}

async function timedStream() {
  const start = process.hrtime.bigint();
  const lines = await streamOnce();
  return [lines, Number(process.hrtime.bigint() - start) / 1e9, 0];
}

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '2' },
  repetitions: { type: 'string', default: '5' } } });
const seconds = Number(values.seconds), repetitions = Number(values.repetitions);
const stream = [], connection = [], setups = [];
let replyOctets = 0;
for (let r = 0; r < repetitions; r++) {
  stream.push((await rate(timedStream, seconds))[0]);
  const [lps, octets, setup] = await rate(connectionsOnce, seconds);
  connection.push(lps);
  setups.push(setup);
  replyOctets = octets;
}
console.log(JSON.stringify({
  peer: `npm smtp-server ${version} on Node.js ${process.versions.node}`,
  stream_lines_per_second: median(stream), connection_lines_per_second: median(connection),
  setup_seconds_per_session: median(setups),
  reply_octets_per_line: replyOctets, lines_per_session: MIX.length, sessions: BLOCKS, repetitions,
}));
