"""A real aiosmtpd server for `sansmtp send` (tests/interop/send.sh).

Prints its port on stdout once listening; each message it accepts is written
byte-exact as received (after dot-unstuffing) to OUT_DIR/N.eml, with its
envelope in OUT_DIR/N.json. Options: --tls CERT KEY (STARTTLS offered and
required before MAIL), --auth USER PASSWORD (AUTH PLAIN/LOGIN, only after
TLS: auth_require_tls), --lmtp (LMTP, RFC 2033), --implicit-tls CERT KEY
(TLS from the first octet, RFC 8314 section 3; no STARTTLS).
Runs under Debian's /usr/bin/python3 with python3-aiosmtpd.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out_dir")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", nargs=2, metavar=("USER", "PASSWORD"))
    p.add_argument("--lmtp", action="store_true")
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    count = [0]

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            count[0] += 1
            base = os.path.join(a.out_dir, str(count[0]))
            with open(base + ".eml", "wb") as f:
                f.write(envelope.original_content)
            with open(base + ".json", "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                           "mail_options": envelope.mail_options,
                           # After STARTTLS session.ssl; with implicit TLS the transport's.
                           "tls": session.ssl is not None
                           or server.transport.get_extra_info("ssl_object") is not None,
                           "auth": session.authenticated if hasattr(session, "authenticated") else None}, f)
            if a.lmtp:
                return "\r\n".join("250 2.0.0 delivered to %s" % r for r in envelope.rcpt_tos)
            return "250 2.0.0 Message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.auth[0]
              and auth_data.password.decode() == a.auth[1])
        # handled=False: aiosmtpd then answers 535 itself (handled=True would
        # mean the authenticator already replied).
        return AuthResult(success=ok, handled=False)

    kwargs = {}
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        kwargs.update(tls_context=ctx, require_starttls=True)
    controller_kwargs = {}
    if a.implicit_tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.implicit_tls[0], a.implicit_tls[1])
        controller_kwargs.update(ssl_context=ctx)
    if a.auth:
        kwargs.update(authenticator=authenticator, auth_require_tls=True)
    else:
        kwargs.update(auth_require_tls=False)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    class LmtpController(Controller):
        def factory(self):
            return LMTP(self.handler, **self.SMTP_kwargs)

    cls = LmtpController if a.lmtp else Controller
    controller = cls(Handler(), hostname="127.0.0.1", port=port, server_hostname="mx.aiosmtpd.interop.example",
                     **controller_kwargs, **kwargs)
    controller.start()
    print(port, flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
