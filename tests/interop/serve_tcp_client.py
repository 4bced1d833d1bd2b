"""Clients for the TCP interop tests of `sansmtp serve --listen`
(tests/interop/serve_tcp.sh, serve_tcp_attacks.sh). Standard library
only; run with Debian's /usr/bin/python3.

usage: serve_tcp_client.py CHECK PORT [ARGS...]

  smtplib PORT USER PASSWORD OUT     smtplib: starttls(), login(), send_message();
                                     writes the exact message bytes sent to OUT
  auth-before-tls PORT USER PASSWORD AUTH PLAIN on the plaintext channel is refused (538)
  verified-tls PORT CAFILE NAME      STARTTLS verifying the certificate against CAFILE for NAME
  smuggle PORT MAILDIR POLICY        each non-canonical end of data followed by a second
                                     MAIL/RCPT/DATA in the same write; POLICY reject|normalize
  injection PORT POLICY              STARTTLS with commands pipelined after it; reject|discard
  shutdown PORT READY_FILE           sessions open while the server is told to stop
  max-sessions PORT N                N sessions take the slots; the next one gets 421 4.3.2

Exit 0 when every expectation held; otherwise the failures are printed
and the exit status is 1.
"""
import email.message
import hashlib
import os
import re
import smtplib
import socket
import ssl
import sys
import time

FAILURES = []


def check(condition, what):
    if not condition:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return condition


def unverified_tls():
    # The server's certificate is self-signed (--tls-self-signed).
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Conn:
    """A raw SMTP connection that reads whole replies."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)  # one write: one segment for these sizes

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def reply(self):
        """(code, [lines]) of one reply, or (None, lines) at EOF."""
        lines = []
        while True:
            line = self.line()
            if line is None:
                return None, lines
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), lines

    def rest(self):
        """Everything until the server closes."""
        data, self.buf = self.buf, b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
        return data

    def starttls(self, ctx=None, name=None):
        self.sock = (ctx or unverified_tls()).wrap_socket(self.sock, server_hostname=name)

    def close(self):
        self.sock.close()


def ehlo(conn, name=b"client.interop.example"):
    conn.send(b"EHLO " + name + b"\r\n")
    return conn.reply()


# --------------------------------------------------------------------- smtplib

class RecordingSMTP(smtplib.SMTP):
    """smtplib.SMTP keeping the message bytes data() is given: what goes on
    the wire before dot-stuffing (send_message() flattens, sendmail() fixes
    line ends, then data())."""

    sent = b""

    def data(self, msg):
        RecordingSMTP.sent = msg if isinstance(msg, bytes) else msg.encode("ascii")
        return super().data(msg)


def check_smtplib(port, user, password, out):
    msg = email.message.EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.net, carol@example.net"
    msg["Subject"] = "smtplib over STARTTLS with AUTH"
    msg.set_content(".leading dot\nna\u00efve 8-bit\n..two dots\n")
    with RecordingSMTP("127.0.0.1", port, local_hostname="smtplib.interop.example", timeout=20) as client:
        client.ehlo()
        check(client.has_extn("starttls"), "smtplib: STARTTLS offered")
        check(not client.has_extn("auth"), "smtplib: AUTH not offered before TLS")
        client.starttls(context=unverified_tls())
        client.ehlo()
        check("PLAIN" in client.esmtp_features.get("auth", ""), "smtplib: AUTH PLAIN offered after TLS")
        client.login(user, password)
        refused = client.send_message(msg)
        check(refused == {}, f"smtplib: refused {refused}")
    with open(out, "wb") as f:
        f.write(RecordingSMTP.sent)


def check_auth_before_tls(port, user, password):
    import base64
    conn = Conn(port)
    conn.reply()
    code, lines = ehlo(conn)
    check(not any(b"AUTH" in l for l in lines), "AUTH advertised before TLS")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode())
    conn.send(b"AUTH PLAIN " + token + b"\r\n")
    code, lines = conn.reply()
    check(code == 538, f"AUTH PLAIN before TLS: expected 538 (RFC 4954 4), got {lines}")
    conn.send(b"MAIL FROM:<a@example.org>\r\n")
    code, lines = conn.reply()
    check(code == 530, f"MAIL without AUTH: expected 530 5.7.0, got {lines}")
    conn.send(b"QUIT\r\n")
    conn.reply()
    conn.close()


def check_verified_tls(port, cafile, name):
    ctx = ssl.create_default_context(cafile=cafile)  # hostname checked, chain verified
    conn = Conn(port)
    conn.reply()
    ehlo(conn)
    conn.send(b"STARTTLS\r\n")
    code, lines = conn.reply()
    check(code == 220, f"verified TLS: STARTTLS got {lines}")
    conn.starttls(ctx, name)
    check(conn.sock.version() in ("TLSv1.2", "TLSv1.3"), f"verified TLS: {conn.sock.version()}")
    code, lines = ehlo(conn)
    check(code == 250 and not any(b"STARTTLS" in l for l in lines), f"verified TLS: EHLO after TLS got {lines}")
    conn.send(b"QUIT\r\n")
    code, _ = conn.reply()
    check(code == 221, f"verified TLS: QUIT got {code}")
    conn.close()


# -------------------------------------------------------------------- smuggling

VARIANTS = {
    "LF.LF": b"\n.\n",
    "CR.CRLF": b"\r.\r\n",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CRLF.CR": b"\r\n.\r",
}
SMUGGLED = b"MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nsmuggled\r\n"


def strict_reading(stream):
    """What RFC 5321 4.5.2 makes of DATA bytes when only CRLF ends a line:
    the message ends at the first CRLF "." CRLF; a leading dot of a (CRLF)
    line is dropped; then each bare CR or LF inside is normalised to CRLF
    (what --bare-lf/--bare-cr normalize promise)."""
    end = stream.index(b"\r\n.\r\n")
    lines = stream[: end + 2].split(b"\r\n")[:-1]
    body = b"".join((l[1:] if l.startswith(b".") else l) + b"\r\n" for l in lines)
    return re.sub(rb"\r(?!\n)|(?<!\r)\n", b"\r\n", body)


def maildir_files(maildir, sub="new"):
    path = os.path.join(maildir, sub)
    if not os.path.isdir(path):
        return []
    out = []
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), "rb") as f:
            out.append((name, f.read()))
    return out


def check_smuggle(port, maildir, policy):
    for label, variant in VARIANTS.items():
        before = {name for name, _ in maildir_files(maildir)}
        conn = Conn(port)
        conn.reply()
        ehlo(conn)
        conn.send(b"MAIL FROM:<alice@example.org>\r\n")
        conn.reply()
        conn.send(b"RCPT TO:<bob@example.net>\r\n")
        conn.reply()
        conn.send(b"DATA\r\n")
        code, _ = conn.reply()
        check(code == 354, f"smuggle {label}: DATA got {code}")
        data = b"Subject: smuggling " + label.encode() + b"\r\n\r\nhello" + variant + SMUGGLED
        conn.send(data + b".\r\nQUIT\r\n")  # one write: the attack and what follows
        code, lines = conn.reply()
        quit_code, _ = conn.reply()
        extra = conn.rest()
        conn.close()
        new = [(n, b) for n, b in maildir_files(maildir) if n not in before]
        check(quit_code == 221, f"smuggle {label}/{policy}: after the message, QUIT got {quit_code}")
        check(extra == b"", f"smuggle {label}/{policy}: replies beyond two: {extra!r}")
        if policy == "reject":
            check(code is not None and 500 <= code < 600, f"smuggle {label}: expected 5xx, got {lines}")
            check(new == [], f"smuggle {label}: {len(new)} message(s) delivered under reject")
        else:
            check(code == 250, f"smuggle {label}/normalize: expected 250, got {lines}")
            expected = strict_reading(data + b".\r\n")
            check(len(new) == 1, f"smuggle {label}/normalize: {len(new)} messages delivered, expected 1")
            if new:
                check(new[0][1] == expected,
                      f"smuggle {label}/normalize: delivered {new[0][1]!r}, strict reading {expected!r}")
        print(f"ok: smuggle {label} ({policy})" if not FAILURES else f"after smuggle {label}", flush=True)
    check(maildir_files(maildir, "tmp") == [], "smuggle: files left in tmp/")


# ----------------------------------------------------------- STARTTLS injection

INJECTIONS = {
    "STARTTLS+RSET": b"STARTTLS\r\nRSET\r\n",
    "STARTTLS+EHLO+MAIL": b"STARTTLS\r\nEHLO x\r\nMAIL FROM:<a@b>\r\n",
}


def check_injection(port, policy):
    for label, payload in INJECTIONS.items():
        conn = Conn(port)
        conn.reply()
        ehlo(conn)
        conn.send(payload)
        if policy == "reject":
            # Nothing after STARTTLS runs: one refusal, then the server closes.
            code, lines = conn.reply()
            check(code == 554, f"injection {label}/reject: expected 554, got {lines}")
            rest = conn.rest()
            check(rest == b"", f"injection {label}/reject: more after the refusal: {rest!r}")
        else:
            code, lines = conn.reply()
            check(code == 220, f"injection {label}/discard: STARTTLS got {lines}")
            conn.starttls()
            # The injected commands were dropped: no reply waits for them,
            # and the session is at its start (RFC 3207 4.2: EHLO first).
            conn.send(b"MAIL FROM:<a@example.org>\r\n")
            code, lines = conn.reply()
            check(code == 503, f"injection {label}/discard: MAIL after TLS expected 503, got {lines}")
            code, lines = ehlo(conn, b"y")
            check(code == 250 and lines[0].startswith(b"250-"),
                  f"injection {label}/discard: EHLO over TLS got {lines}")
            conn.send(b"QUIT\r\n")
            code, _ = conn.reply()
            check(code == 221, f"injection {label}/discard: QUIT got {code}")
        conn.close()
        if not FAILURES:
            print(f"ok: injection {label} ({policy})", flush=True)


# ---------------------------------------------------------------------- shutdown

def check_shutdown(port, ready_file):
    """Three idle sessions, one that finishes its message after the signal,
    one that is still sending its message when the grace period ends."""
    idle = []
    for _ in range(3):
        c = Conn(port)
        c.reply()
        ehlo(c)
        idle.append(c)
    finishing, stuck = Conn(port), Conn(port)
    for c in (finishing, stuck):
        c.reply()
        ehlo(c)
        for command in (b"MAIL FROM:<alice@example.org>\r\n", b"RCPT TO:<bob@example.net>\r\n", b"DATA\r\n"):
            c.send(command)
            c.reply()
        c.send(b"Subject: in flight\r\n\r\nfirst half\r\n")
    with open(ready_file, "w") as f:
        f.write("ready\n")
    time.sleep(0.5)  # the shell sends SIGTERM now
    finishing.send(b"second half\r\n.\r\n")
    code, lines = finishing.reply()
    check(code == 250, f"shutdown: a message finished in the grace period got {lines}")
    finishing.send(b"MAIL FROM:<alice@example.org>\r\n")
    code, lines = finishing.reply()
    check(code == 421 and b"4.3.2" in lines[0], f"shutdown: new work during the grace period got {lines}")
    for c in idle + [stuck]:
        code, lines = c.reply()
        check(code == 421 and b"4.3.2" in lines[0], f"shutdown: open session got {lines}, expected 421 4.3.2")
        check(c.rest() == b"", "shutdown: data after the 421")
        c.close()
    finishing.close()
    if not FAILURES:
        print("ok: shutdown clients", flush=True)


def check_max_sessions(port, n):
    held = []
    for _ in range(n):
        c = Conn(port)
        code, _ = c.reply()
        check(code == 220, f"max-sessions: session within the limit got {code}")
        held.append(c)
    extra = Conn(port)
    code, lines = extra.reply()
    check(code == 421 and b"4.3.2" in lines[0], f"max-sessions: session over the limit got {lines}")
    check(extra.rest() == b"", "max-sessions: more after the 421")
    extra.close()
    held[0].send(b"QUIT\r\n")
    held[0].reply()
    held[0].close()
    time.sleep(0.3)  # the slot is released when the connection is closed
    again = Conn(port)
    code, _ = again.reply()
    check(code == 220, f"max-sessions: a freed slot is taken again, got {code}")
    for c in held[1:] + [again]:
        c.close()
    if not FAILURES:
        print("ok: max-sessions", flush=True)


def main(argv):
    check_name, port = argv[1], int(argv[2])
    args = argv[3:]
    if check_name == "smtplib":
        check_smtplib(port, *args)
    elif check_name == "auth-before-tls":
        check_auth_before_tls(port, *args)
    elif check_name == "verified-tls":
        check_verified_tls(port, *args)
    elif check_name == "smuggle":
        check_smuggle(port, *args)
    elif check_name == "injection":
        check_injection(port, *args)
    elif check_name == "shutdown":
        check_shutdown(port, *args)
    elif check_name == "max-sessions":
        check_max_sessions(port, int(args[0]))
    else:
        print(__doc__)
        return 64
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
