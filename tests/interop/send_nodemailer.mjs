// Send one message with Nodemailer's SMTP transport to 127.0.0.1:PORT.
//
//     node send_nodemailer.mjs PORT [FROM]
//
// No `name` option: Nodemailer picks its own EHLO name
// (SMTPConnection._getHostname()), which is the point of the test.  Plain
// text, no STARTTLS (ignoreTLS), no auth.  Exits 0 once the server accepted
// the message.
import nodemailer from 'nodemailer';

const port = Number(process.argv[2]);
const from = process.argv[3] || 'nodemailer@interop.sansmtp.invalid';
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error('usage: node send_nodemailer.mjs PORT [FROM]');
    process.exit(64);
}

const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10000,
    greetingTimeout: 10000,
    socketTimeout: 10000
});

try {
    const info = await transport.sendMail({
        from,
        to: 'sink@interop.sansmtp.invalid',
        subject: 'sansmtp interop: nodemailer default EHLO name',
        text: 'Sent by tests/interop/send_nodemailer.mjs.\n'
    });
    console.log(`nodemailer: accepted: ${info.response}`);
    process.exit(0);
} catch (err) {
    console.error(`nodemailer: send failed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
}
