#!/usr/bin/python3
"""Python's smtplib (a real client) runs one session against 127.0.0.1:PORT.

    /usr/bin/python3 send_smtplib.py PORT

EHLO, NOOP, HELP, VRFY, AUTH PLAIN (initial response), then three messages:
plain ASCII with BODY=8BITMIME, an SMTPUTF8 one with UTF-8 addresses, and one
to a quoted local part; then RSET and QUIT.  smtplib sends its verbs in lower
case ("mail FROM:", "rcpt TO:"), which the strict parser must accept.
"""

import smtplib
import sys

port = int(sys.argv[1])
msg = b"Subject: sansmtp interop\r\n\r\nSent by tests/interop/send_smtplib.py.\r\n"
with smtplib.SMTP("127.0.0.1", port, local_hostname="client.interop.example", timeout=10) as s:
    s.ehlo()
    s.noop()
    s.help()
    s.verify("postmaster")
    s.login("user", "secret")
    s.sendmail("smtplib@interop.example", ["alice@interop.example", "bob.smith@interop.example"], msg,
               mail_options=["BODY=8BITMIME"])
    s.sendmail("j\u00f6rg@b\u00fccher.example", ["\u7528\u6237@\u4f8b\u5b50.example"],
               "Subject: utf8\r\n\r\nx\r\n".encode(), mail_options=["SMTPUTF8"])
    s.sendmail("smtplib@interop.example", ['"john smith"@interop.example'], msg)
    s.rset()
print("smtplib: done")
