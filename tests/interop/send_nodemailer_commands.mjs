// Nodemailer (a real client) sends two messages to 127.0.0.1:PORT: one with
// AUTH PLAIN and two recipients, one with UTF-8 addresses (SMTPUTF8).
//
//     node send_nodemailer_commands.mjs PORT
import nodemailer from 'nodemailer';

const port = Number(process.argv[2]);
const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    name: 'client.interop.example',
    auth: { user: 'user', pass: 'secret', method: 'PLAIN' },
    connectionTimeout: 10000,
    greetingTimeout: 10000,
    socketTimeout: 10000
});

try {
    await transport.sendMail({
        from: 'nodemailer@interop.example',
        to: ['alice@interop.example', 'carol@interop.example'],
        subject: 'sansmtp interop: commands',
        text: 'Sent by tests/interop/send_nodemailer_commands.mjs.\n'
    });
    await transport.sendMail({
        from: 'j\u00f6rg@b\u00fccher.example',
        to: '\u7528\u6237@\u4f8b\u5b50.example',
        subject: 'utf8',
        text: 'x\n'
    });
    console.log('nodemailer: done');
    process.exit(0);
} catch (err) {
    console.error(`nodemailer: send failed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
}
