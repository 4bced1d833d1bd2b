// Send one prepared message with Nodemailer's SMTP transport to
// 127.0.0.1:PORT, as it is (`raw`: Nodemailer only dot-stuffs it and
// makes its line ends CRLF).
//
//     node nodemailer_send_raw.mjs PORT MESSAGE_FILE [EHLO_NAME]
//
// Without EHLO_NAME Nodemailer picks its own name (os.hostname() when it
// has a dot, else "[127.0.0.1]"). Plain text (ignoreTLS), no auth. Exits
// 0 once the server accepted the message.
import fs from 'node:fs';
import nodemailer from 'nodemailer';

const [portText, file, name] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || port <= 0 || port > 65535 || !file) {
    console.error('usage: node nodemailer_send_raw.mjs PORT MESSAGE_FILE [EHLO_NAME]');
    process.exit(64);
}

const options = {
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10000,
    greetingTimeout: 10000,
    socketTimeout: 10000
};
if (name) options.name = name;
const transport = nodemailer.createTransport(options);

try {
    const info = await transport.sendMail({
        envelope: { from: 'nodemailer@interop.sansmtp.invalid', to: ['sink@interop.sansmtp.invalid'] },
        raw: fs.readFileSync(file)
    });
    console.log(`nodemailer: accepted: ${info.response}`);
    process.exit(0);
} catch (err) {
    console.error(`nodemailer: send failed: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
}
