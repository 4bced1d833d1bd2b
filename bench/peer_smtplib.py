#!/usr/bin/python3
"""Python's smtplib reading replies, driven the way its users drive it
(SMTP.getreply() over the connection's file), on the stream bench_reply reads
(a Postfix-style session: greeting, 13-line EHLO reply, multiline refusals).
The in-process peer figure of scripts/bench --peers; prints one JSON object.

    /usr/bin/python3 bench/peer_smtplib.py [--seconds 2] [--repetitions 5]
"""
import argparse
import io
import json
import smtplib
import statistics
import sys
import time

# bench/bench_reply.cpp's session: the same bytes, so that bytes per second compare.
STREAM = (b"220 mx.example.org ESMTP Postfix (Debian/GNU)\r\n"
          b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n"
          b"250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
          b"250-SMTPUTF8\r\n250 CHUNKING\r\n"
          b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
          b"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
          b"550-5.1.1 double-checking the recipient's email address for typos or\r\n"
          b"550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si2 - gsmtp\r\n"
          b"354 End data with <CR><LF>.<CR><LF>\r\n"
          b"250 2.0.0 Ok: queued as 4Y2ZkQ0Xq1z9sWm\r\n"
          b"421-4.7.0 [192.0.2.1      15] Our system has detected an unusual rate of\r\n"
          b"421-4.7.0 unsolicited mail originating from your IP address. To protect our\r\n"
          b"421-4.7.0 users from spam, mail sent from your IP address has been temporarily\r\n"
          b"421-4.7.0 rate limited. Please visit https://support.google.com/mail/?p=UnsolicitedRateLimitError\r\n"
          b"421 4.7.0 to review our Bulk Email Senders Guidelines. a1si3 - gsmtp\r\n"
          b"221 2.0.0 Bye\r\n")
REPLIES_PER_STREAM = 10


def one_run(seconds):
    """Replies per second and bytes per second over `seconds` of reading."""
    copies = 2000
    data = STREAM * copies
    client = smtplib.SMTP()  # not connected: its file is set below
    replies = 0
    octets = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        client.file = io.BufferedReader(io.BytesIO(data))
        for _ in range(copies * REPLIES_PER_STREAM):
            code, _ = client.getreply()
            replies += 1
        octets += len(data)
    elapsed = time.perf_counter() - start
    return replies / elapsed, octets / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--repetitions", type=int, default=5)
    args = ap.parse_args()
    runs = [one_run(args.seconds) for _ in range(args.repetitions)]
    print(json.dumps({"peer": f"Python {sys.version.split()[0]} smtplib SMTP.getreply()",
                      "replies_per_second": statistics.median(r for r, _ in runs),
                      "bytes_per_second": statistics.median(b for _, b in runs),
                      "repetitions": args.repetitions}))


if __name__ == "__main__":
    main()
