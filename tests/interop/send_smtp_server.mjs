// A real smtp-server (Nodemailer's) for `sansmtp send` (tests/interop/send.sh).
// Prints its port once listening. PIPELINING is on (smtp-server's default);
// a recipient whose local part is "nobody" is refused with 550 5.1.1; with
// SIZE=N in the environment the size limit is N octets and a message over it
// gets 552 5.3.4 at the end of data. Each accepted message is written to
// OUT_DIR/N.eml; every chunk the client wrote is appended (as JSON lines) to
// OUT_DIR/wire.jsonl, so the test can see that the envelope was pipelined.
import { SMTPServer } from 'smtp-server';
import fs from 'node:fs';
import path from 'node:path';

const outDir = process.argv[2];
fs.mkdirSync(outDir, { recursive: true });
const size = process.env.SIZE ? Number(process.env.SIZE) : 0;
let count = 0;
const server = new SMTPServer({
  name: 'mx.smtp-server.interop.example',
  disabledCommands: ['STARTTLS', 'AUTH'],
  authOptional: true,
  size,
  logger: false,
  onRcptTo(address, session, callback) {
    if (address.address.startsWith('nobody@')) {
      const err = new Error('5.1.1 <' + address.address + '>: Recipient address rejected: no such user');
      err.responseCode = 550;
      return callback(err);
    }
    callback();
  },
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      if (stream.sizeExceeded) {
        const err = new Error('5.3.4 Message exceeds the fixed maximum message size');
        err.responseCode = 552;
        return callback(err);
      }
      count += 1;
      fs.writeFileSync(path.join(outDir, count + '.eml'), Buffer.concat(chunks));
      callback(null, '2.0.0 Ok: queued');
    });
  },
});
server.server.on('connection', (socket) => {
  socket.on('data', (chunk) => {
    fs.appendFileSync(path.join(outDir, 'wire.jsonl'), JSON.stringify(chunk.toString('latin1')) + '\n');
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(server.server.address().port);
});
