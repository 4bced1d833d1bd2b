#!/usr/bin/python3
"""aiosmtpd's command parsing in process, driven the way its users drive it:
its protocol object (aiosmtpd.smtp.SMTP, the class its Controller makes for
each connection) fed the issue-14 command mix through an asyncio transport
in memory (no sockets). The in-process peer figure of scripts/bench --peers;
prints one JSON object.

What is measured: command lines per second over 667 sessions of the 15-line
mix (10,005 lines). Each 15-line block is one session, because aiosmtpd
closes the connection on QUIT (and after 5 unknown commands: BDAT is one).
The 667 sessions are made and greeted before the clock starts (a new SMTP
object each, connection_made(), its handler task writes the 220); then
each gets its block's bytes in one data_received(), and the clock stops
when every handler task has read, parsed and answered its 15 lines and
QUIT has closed its transport. Every line is counted, QUIT included. So
the figure includes, beside the parsing, what aiosmtpd does per line
anyway: asyncio's StreamReader.readuntil(), the reply written to the
transport (counted, discarded), the 300-second timer reset per command,
and the event loop switching between the 667 tasks. A real server adds
the socket on top, and the session set-up left out of the lines per
second (reported beside them as set-up seconds per session: the SMTP
object, its task and the greeting).

The handler refuses every recipient (550), so that DATA is answered 503 and
every line of the mix is read as a command (an accepted recipient would turn
the lines after DATA into a message body). aiosmtpd answers the mix's other
lines it does not do with an error and goes on: STARTTLS 454 (no TLS
context), AUTH 538 (no TLS), RCPT with NOTIFY 555, BDAT 500. The 'mail.log'
logger is set to ERROR, as a quiet production server would, so that the
warning aiosmtpd logs for the unknown BDAT is not printed.

    /usr/bin/python3 bench/peer_aiosmtpd.py [--seconds 2] [--repetitions 5]
"""
import argparse
import asyncio
import json
import logging
import statistics
import time

import aiosmtpd
from aiosmtpd.smtp import SMTP

MIX = [b"EHLO client.example.com", b"STARTTLS", b"EHLO client.example.com", b"AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=",
       b"MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME", b"RCPT TO:<bob@example.org>",
       b"RCPT TO:<carol.smith+tag@sub.example.net> NOTIFY=SUCCESS,FAILURE", b"DATA", b"RSET",
       b"MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME", b"RCPT TO:<bob@example.org>", b"BDAT 1000 LAST",
       b"NOOP", b"VRFY alice", b"QUIT"]
BLOCK = b"".join(line + b"\r\n" for line in MIX)
BLOCKS = 667


class Refusing:
    """The application: every recipient refused, so that DATA stays a command."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"


class MemoryTransport(asyncio.Transport):
    """What the event loop's socket transport gives the protocol, in memory."""

    def __init__(self, loop):
        super().__init__({"peername": ("192.0.2.1", 50000), "sockname": ("192.0.2.2", 25)})
        self.loop, self.protocol, self.written, self.closing = loop, None, 0, False

    def write(self, data):
        self.written += len(data)

    def is_closing(self):
        return self.closing

    def close(self):
        if not self.closing:
            self.closing = True
            self.loop.call_soon(self.protocol.connection_lost, None)

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass


async def sessions(count):
    """`count` sessions of the mix, greeted before the clock starts; returns
    (set-up seconds, seconds, reply octets written after the greetings)."""
    loop = asyncio.get_running_loop()
    handler = Refusing()
    open_ = []
    made = time.perf_counter()
    for _ in range(count):
        smtp = SMTP(handler, hostname="mx.example.org", loop=loop)
        transport = MemoryTransport(loop)
        transport.protocol = smtp
        smtp.connection_made(transport)
        open_.append((smtp, transport))
    while not all(t.written for _, t in open_):  # each handler task has written its 220
        await asyncio.sleep(0)
    greeted = sum(t.written for _, t in open_)
    start = time.perf_counter()
    for smtp, _ in open_:
        smtp.data_received(BLOCK)
    # The handler tasks connection_made() started; QUIT cancels each.
    await asyncio.gather(*(smtp._handler_coroutine for smtp, _ in open_), return_exceptions=True)
    return start - made, time.perf_counter() - start, sum(t.written for _, t in open_) - greeted


def one_run(seconds):
    """Command lines per second over at least `seconds` of whole mixes."""
    loop = asyncio.new_event_loop()
    try:
        lines = written = elapsed = setup = 0
        while elapsed < seconds:
            made, took, octets = loop.run_until_complete(sessions(BLOCKS))
            setup += made
            elapsed += took
            written += octets
            lines += BLOCKS * len(MIX)
    finally:
        loop.close()
    return lines / elapsed, written / lines, setup / (lines / len(MIX))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    runs = [one_run(args.seconds) for _ in range(args.repetitions)]
    print(json.dumps({"peer": f"aiosmtpd {aiosmtpd.__version__} SMTP protocol object, in memory",
                      "lines_per_second": statistics.median(r for r, _, _ in runs),
                      "setup_seconds_per_session": statistics.median(s for _, _, s in runs),
                      "reply_octets_per_line": runs[0][1], "lines_per_session": len(MIX),
                      "sessions": BLOCKS, "repetitions": args.repetitions}))


if __name__ == "__main__":
    main()
