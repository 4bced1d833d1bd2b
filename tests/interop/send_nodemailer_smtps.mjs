// Send one message with Nodemailer over implicit TLS (`secure: true`, RFC
// 8314 section 3) to 127.0.0.1:PORT, trusting the server's self-signed
// certificate for the test, with AUTH as bob/secret.
//
//     node send_nodemailer_smtps.mjs PORT
//
// Exits 0 once the server accepted the message.
import nodemailer from 'nodemailer';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error('usage: node send_nodemailer_smtps.mjs PORT');
    process.exit(64);
}

const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: true,
    name: 'client.interop.example',
    tls: { rejectUnauthorized: false },
    auth: { user: 'bob', pass: 'secret' },
    connectionTimeout: 10000,
    greetingTimeout: 10000,
    socketTimeout: 10000
});

try {
    const info = await transport.sendMail({
        from: 'alice@example.org',
        to: 'bob@example.net',
        subject: 'sansmtp interop: nodemailer secure: true',
        text: 'Sent by tests/interop/send_nodemailer_smtps.mjs.\n'
    });
    console.log(`nodemailer: accepted: ${info.response}`);
    process.exit(0);
} catch (err) {
    console.error(`nodemailer: send failed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
}
