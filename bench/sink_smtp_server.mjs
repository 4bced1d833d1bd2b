// npm smtp-server as a sink for bench/load_bench.py: an SMTPServer on
// 127.0.0.1:PORT whose onData drains the message stream and keeps nothing
// (no TLS, no AUTH, no reverse DNS lookup, no logger; smtp-server's
// defaults otherwise: PIPELINING, 8BITMIME, no size limit). Prints
// "listening" once serving; stops on SIGTERM.
//
//   node bench/sink_smtp_server.mjs PORT
import { createRequire } from 'node:module';

const require = createRequire(new URL('../tests/interop/package.json', import.meta.url));
const { SMTPServer } = require('smtp-server');

const server = new SMTPServer({
  name: 'mx.load.example', disabledCommands: ['STARTTLS', 'AUTH'], authOptional: true,
  disableReverseLookup: true, logger: false,
  onData(stream, session, callback) {
    stream.on('end', () => callback(null, '2.0.0 Ok: discarded'));
    stream.resume();
  },
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
