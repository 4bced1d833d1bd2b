"""Python's smtplib, the real client, talking to `sansmtp serve --stdio`
over a socketpair (the server's stdin and stdout are one end of it).

usage: smtplib_over_stdio.py SANSMTP MAILDIR
Sends two messages in one session (one with a leading-dot line, one with
an 8-bit body under 8BITMIME), then QUIT; exit 0 when smtplib saw success.
"""
import smtplib
import socket
import subprocess
import sys

sansmtp, maildir = sys.argv[1], sys.argv[2]
ours, theirs = socket.socketpair()
server = subprocess.Popen([sansmtp, "serve", "--stdio", "--maildir", maildir, "--hostname", "mx.interop.example"],
                          stdin=theirs, stdout=theirs)
theirs.close()

client = smtplib.SMTP(local_hostname="client.interop.example", timeout=20)
client.sock = ours  # what connect() would have set up
code, greeting = client.getreply()
assert code == 220, (code, greeting)
client.ehlo()
assert client.has_extn("pipelining") and client.has_extn("8bitmime") and client.has_extn("smtputf8")
refused = client.sendmail("alice@example.org", ["bob@example.net", "carol@example.net"],
                          b"Subject: one\r\n\r\n.leading dot\r\nlast line\r\n")
assert refused == {}, refused
client.sendmail("alice@example.org", ["bob@example.net"], "Subject: two\r\n\r\nna\u00efve\r\n".encode(),
                mail_options=["BODY=8BITMIME"])
client.quit()
assert server.wait(timeout=20) == 0
