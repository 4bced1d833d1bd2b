#!/usr/bin/python3
"""A raw SMTP client for the reply interop test: connects to a real server,
reads its greeting, sends each command line as given and reads each complete
reply, and records every octet the server sent, exactly as it arrived.

    record_replies.py PORT OUT [--ehlo-out FILE] -- COMMAND...

Writes the whole reply stream to OUT and, with --ehlo-out, the reply to the
first EHLO alone to FILE. A reply is complete at a line whose fourth octet is
SP or that holds only a code: this framing is the test harness's, deliberately
simpler than the library under test, which reads OUT afterwards. Stops early
when the server closes the connection. Exit 0 when every command got a reply.
"""
import argparse
import re
import socket
import sys

FINAL = re.compile(rb"^[0-9]{3}(?: [^\n]*)?\r?\n\Z")


def read_reply(sock, pending):
    """Returns (reply bytes, rest) for the next complete reply, or (None, data)
    when the connection closed first."""
    data = pending
    while True:
        start = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                break
            if FINAL.match(data[start:nl + 1]):
                return data[:nl + 1], data[nl + 1:]
            start = nl + 1
        chunk = sock.recv(65536)
        if not chunk:
            return None, data
        data += chunk


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("out")
    ap.add_argument("--ehlo-out")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:split])
    args.commands = argv[split + 1:]

    stream = bytearray()
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=15)
    reply, rest = read_reply(sock, b"")
    ok = reply is not None
    if ok:
        stream += reply
        for command in args.commands:
            sock.sendall(command.encode() + b"\r\n")
            reply, rest = read_reply(sock, rest)
            if reply is None:
                ok = False
                break
            stream += reply
            if args.ehlo_out and command.upper().startswith("EHLO "):
                with open(args.ehlo_out, "wb") as f:
                    f.write(reply)
                args.ehlo_out = None
    sock.close()
    stream += rest if rest else b""
    with open(args.out, "wb") as f:
        f.write(stream)
    sys.stdout.write(stream.decode("utf-8", "replace").replace("\r", ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
