#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) that records the EHLO/HELO names clients send.

Run with Debian's interpreter (/usr/bin/python3, package python3-aiosmtpd).

    /usr/bin/python3 ehlo_capture_server.py --out FILE [--port N] [--timeout S]

Listens on 127.0.0.1 only.  With --port 0 (the default) the kernel picks a
free port; the chosen port is printed on stdout as the first line, then
flushed.  The server accepts every message and appends one JSON object per
line to FILE:

    {"event": "greeting", "conn": 1, "peer": [...], "verb": "EHLO",
     "arg": "...", "arg_hex": "...", "hook_arg": "..."}
    {"event": "message", "conn": 1, "peer": [...], "mail_from": "...",
     "rcpt_tos": [...], "greetings": [ <the greeting records of that connection> ]}

"arg" is the EHLO/HELO argument exactly as it arrived on the wire (the bytes
after "EHLO " up to CRLF, nothing stripped; decoded as UTF-8 with
surrogateescape, "arg_hex" has the raw bytes).  aiosmtpd itself strips the
argument before handing it to handle_EHLO ("hook_arg"), so the raw value is
taken from the bytes received by the protocol instead.

Exits on its own after --timeout seconds (default 60), or on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP

# Run with -I (isolated: no user site-packages), which also leaves this
# directory off sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_common import RawLines, serve_until_stopped  # noqa: E402

_VERBS = (b"EHLO", b"HELO", b"LHLO")


class RecordingSMTP(SMTP):
    """aiosmtpd's SMTP protocol, additionally keeping the raw greeting lines."""

    _next_conn = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RecordingSMTP._next_conn += 1
        self.conn_id = RecordingSMTP._next_conn
        self._raw = RawLines()
        self.raw_greetings = []   # raw arguments not yet matched to a hook call
        self.greetings = []       # records of this connection

    def data_received(self, data):
        # Look at the command lines before aiosmtpd's reader strips them.  Only
        # greeting verbs are kept; the hook pairs them up with aiosmtpd's view.
        for line in self._raw.feed(data):
            line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
            if len(line) >= 4 and line[:4].upper() in _VERBS:
                rest = line[4:]
                self.raw_greetings.append((line[:4].upper().decode("ascii"),
                                           rest[1:] if rest[:1] == b" " else rest))
        super().data_received(data)

    def take_raw(self, verb, hook_arg):
        # The oldest raw greeting of this verb whose stripped form is what
        # aiosmtpd reported (lines inside DATA that look like greetings never
        # reach a hook, so they are skipped here).
        for i, (v, raw) in enumerate(self.raw_greetings):
            if v == verb and raw.strip().decode("utf-8", "surrogateescape") == hook_arg:
                del self.raw_greetings[: i + 1]
                return raw
        return None


class Recorder:
    def __init__(self, out_path):
        self.out = open(out_path, "a", encoding="utf-8")

    def write(self, record):
        self.out.write(json.dumps(record, ensure_ascii=True) + "\n")
        self.out.flush()

    def _greeting(self, server, session, verb, hostname):
        raw = server.take_raw(verb, hostname)
        record = {
            "event": "greeting",
            "conn": server.conn_id,
            "peer": list(session.peer) if session.peer else None,
            "verb": verb,
            "arg": raw.decode("utf-8", "surrogateescape") if raw is not None else None,
            "arg_hex": raw.hex() if raw is not None else None,
            "hook_arg": hostname,
        }
        server.greetings.append(record)
        self.write(record)
        session.host_name = hostname

    # aiosmtpd >= 1.3 "new style" EHLO hook: gets and returns the response lines.
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self._greeting(server, session, "EHLO", hostname)
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        self._greeting(server, session, "HELO", hostname)
        return "250 {}".format(server.hostname)

    async def handle_DATA(self, server, session, envelope):
        self.write({
            "event": "message",
            "conn": server.conn_id,
            "peer": list(session.peer) if session.peer else None,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "greetings": server.greetings,
        })
        return "250 2.0.0 Message accepted for delivery"


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="JSON-lines capture file (appended)")
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--timeout", type=float, default=60.0, help="exit after this many seconds")
    args = ap.parse_args()

    recorder = Recorder(args.out)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: RecordingSMTP(recorder, hostname="capture.sansmtp.invalid",
                              enable_SMTPUTF8=True),
        host="127.0.0.1", port=args.port)
    await serve_until_stopped(server, args.timeout, "ehlo_capture_server")
    recorder.out.close()


if __name__ == "__main__":
    asyncio.run(main())
