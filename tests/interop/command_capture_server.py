#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) that records every command line clients send.

Run with Debian's interpreter (/usr/bin/python3, package python3-aiosmtpd).

    /usr/bin/python3 command_capture_server.py --out FILE [--port N] [--timeout S]

Listens on 127.0.0.1 only; prints the chosen port on stdout first.  Advertises
SIZE, 8BITMIME, SMTPUTF8 and AUTH PLAIN (without TLS: test server only; any
user and password are accepted) and accepts every message.  Appends one JSON
object per command line to FILE, with the raw bytes as they arrived (CRLF
included), before aiosmtpd strips or decodes anything:

    {"conn": 1, "line_hex": "4d41494c..."}

Message content (from the line after DATA up to and including ".CRLF") is not
recorded.  Exits after --timeout seconds (default 60) or on SIGTERM/SIGINT.
"""

import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult

# Run with -I (isolated: no user site-packages), which also leaves this
# directory off sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from capture_common import RawLines, serve_until_stopped  # noqa: E402


class RecordingSMTP(SMTP):
    _next_conn = 0

    def __init__(self, recorder, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RecordingSMTP._next_conn += 1
        self.conn_id = RecordingSMTP._next_conn
        self.recorder = recorder
        self._raw = RawLines()
        self._in_data = False

    def data_received(self, data):
        for line in self._raw.feed(data):
            if self._in_data:
                if line == b".\r\n":
                    self._in_data = False
                continue
            self.recorder.write({"conn": self.conn_id, "line_hex": line.hex()})
            if line.rstrip(b"\r\n").upper() == b"DATA":
                self._in_data = True
        super().data_received(data)


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


class Recorder:
    def __init__(self, out_path):
        self.out = open(out_path, "a", encoding="utf-8")

    def write(self, record):
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()


class Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Message accepted for delivery"


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    recorder = Recorder(args.out)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: RecordingSMTP(recorder, Accept(), hostname="capture.sansmtp.invalid",
                              enable_SMTPUTF8=True, data_size_limit=10485760,
                              authenticator=accept_any, auth_require_tls=False),
        host="127.0.0.1", port=args.port)
    await serve_until_stopped(server, args.timeout, "command_capture_server")
    recorder.out.close()


if __name__ == "__main__":
    asyncio.run(main())
