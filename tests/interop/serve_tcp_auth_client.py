"""Clients for serve_tcp_auth.sh: AUTH against `sansmtp serve --listen`
(STARTTLS first, a self-signed certificate not verified).

  noop-during-auth PORT  one session's AUTH PLAIN (a costly hash) is being
                         checked while another session's NOOP is answered
  delay PORT MIN1 MIN2   two sessions from 127.0.0.1, one failed AUTH each:
                         the 535s come no sooner than MIN1 and MIN2 seconds
  limit PORT             two failures in one session; the next session's
                         AUTH gets 421 4.7.0 without a password check
  fail-and-wait PORT     a failed AUTH, then waits for the (delayed) reply
  fail PORT N            N (1-3) failed AUTHs in one session
  guess PORT SECONDS     a password-guessing loop (for measurements)
  noop-latency PORT SECONDS  NOOP round trips; prints the median and maximum
"""
import base64
import socket
import ssl
import statistics
import sys
import threading
import time


def plain(user, password):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        code, _ = self.reply()
        assert code == 220, code

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def reply(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError("the server closed the connection")
                self.buf += data
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode())
            if line[3:4] != b"-":
                return int(lines[0][:3]), lines

    def cmd(self, line):
        self.send(line)
        return self.reply()

    def starttls(self):
        code, _ = self.cmd("EHLO client.example")
        assert code == 250
        code, _ = self.cmd("STARTTLS")
        assert code == 220, code
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mx.interop.example")
        code, _ = self.cmd("EHLO client.example")
        assert code == 250
        return self


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def noop_during_auth(port):
    a = Client(port).starttls()
    b = Client(port)
    assert b.cmd("EHLO other.example")[0] == 250
    got = {}

    def wait(name, client):
        got[name] = (client.reply(), time.monotonic())

    start = time.monotonic()
    a.send("AUTH PLAIN " + plain("alice", "correct horse"))
    ta = threading.Thread(target=wait, args=("auth", a))
    ta.start()
    time.sleep(0.3)  # the check has started (the hash takes seconds)
    b.send("NOOP")
    wait("noop", b)
    ta.join()
    (auth_code, _), auth_at = got["auth"]
    (noop_code, _), noop_at = got["noop"]
    print(f"AUTH answered after {auth_at - start:.3f} s, NOOP after {noop_at - start:.3f} s")
    if auth_code != 235:
        fail(f"AUTH got {auth_code}, expected 235")
    if noop_code != 250:
        fail(f"NOOP got {noop_code}")
    if not noop_at < auth_at:
        fail("the NOOP was answered only after the other session's password check")
    print("ok: NOOP answered while another session's AUTH was being checked")


def failed_auth_time(port):
    c = Client(port).starttls()
    start = time.monotonic()
    code, lines = c.cmd("AUTH PLAIN " + plain("alice", "wrong guess"))
    return code, time.monotonic() - start


def delay(port, min1, min2):
    code1, t1 = failed_auth_time(port)
    code2, t2 = failed_auth_time(port)
    print(f"535 after {t1:.3f} s, then after {t2:.3f} s in a new session")
    if code1 != 535 or code2 != 535:
        fail(f"failed AUTHs got {code1}, {code2}")
    if t1 < min1 or t2 < min2:
        fail(f"the delays {t1:.3f} s and {t2:.3f} s are under {min1} and {min2}")
    print("ok: the failure delay grows across sessions from one address")


def limit(port):
    c = Client(port).starttls()
    for _ in range(2):
        code, _ = c.cmd("AUTH PLAIN " + plain("alice", "wrong guess"))
        if code != 535:
            fail(f"a failed AUTH got {code}")
    d = Client(port).starttls()
    code, lines = d.cmd("AUTH PLAIN " + plain("alice", "correct horse"))
    print(lines)
    if code != 421 or "4.7.0" not in lines[0]:
        fail(f"AUTH over the address's failure limit got {lines}")
    try:
        more = d.sock.recv(1)
    except (ConnectionError, ssl.SSLError):
        more = b""
    if more:
        fail("the session went on after 421")
    print("ok: over the per-address failure limit, AUTH gets 421 4.7.0")


def fail_and_wait(port):
    """A failed AUTH whose reply is being delayed; whatever ends it is fine."""
    c = Client(port).starttls()
    c.send("AUTH PLAIN " + plain("alice", "wrong guess"))
    print("sent", flush=True)
    try:
        print(c.reply())
    except (EOFError, ConnectionError, ssl.SSLError) as e:
        print("closed:", e)


def fail_n(port, n):
    """n failed AUTHs in one session: 535 each, 421 for the third."""
    c = Client(port).starttls()
    codes = [c.cmd("AUTH PLAIN " + plain("alice", "wrong guess"))[0] for _ in range(n)]
    want = [535, 535, 421][:n]
    if codes != want:
        fail(f"failed AUTHs got {codes}, expected {want}")
    print("ok:", codes)


def guess(port, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c = Client(port).starttls()
            while time.monotonic() < end:
                code, _ = c.cmd("AUTH PLAIN " + plain("alice", "guess"))
                if code == 421:
                    break
        except (EOFError, ConnectionError, ssl.SSLError):
            pass


def noop_latency(port, seconds):
    c = Client(port)
    c.cmd("EHLO measure.example")
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        code, _ = c.cmd("NOOP")
        times.append(time.monotonic() - start)
        time.sleep(0.02)
    print(f"NOOP round trips: {len(times)}, median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms")


if __name__ == "__main__":
    what, port = sys.argv[1], int(sys.argv[2])
    if what == "noop-during-auth":
        noop_during_auth(port)
    elif what == "delay":
        delay(port, float(sys.argv[3]), float(sys.argv[4]))
    elif what == "limit":
        limit(port)
    elif what == "fail-and-wait":
        fail_and_wait(port)
    elif what == "fail":
        fail_n(port, int(sys.argv[3]))
    elif what == "guess":
        guess(port, float(sys.argv[3]))
    elif what == "noop-latency":
        noop_latency(port, float(sys.argv[3]))
    else:
        fail("unknown scenario " + what)
