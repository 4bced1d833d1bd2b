// A real Node.js SMTP server (npm smtp-server) for the reply interop test:
// listens on 127.0.0.1 (port 0: the system picks), prints the port, serves
// until killed. It advertises SIZE, AUTH PLAIN LOGIN, STARTTLS (its built-in
// test certificate), PIPELINING, 8BITMIME and SMTPUTF8; as by default, it
// wants AUTH before MAIL and STARTTLS before AUTH.
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  name: 'mx.interop.example',
  size: 1048576,
  authMethods: ['PLAIN', 'LOGIN'],
  authOptional: false,
  logger: false,
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
