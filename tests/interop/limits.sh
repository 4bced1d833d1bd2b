#!/usr/bin/env bash
# Interop test: `sansmtp serve --listen` against abusive clients over TCP,
# each limit asserted in what the client reads and in the --events log:
#   - --min-data-rate 20/2: a sender dripping 1 octet per second inside DATA
#     gets 421 4.4.2 within the window (not the 5-minute timeout), close
#     reason `limit`;
#   - --max-session-time 2: a session that keeps every wait short is closed
#     with 421 4.4.2 after 2 s;
#   - --max-non-mail-commands 3: the 4th NOOP/RSET/VRFY/EXPN/HELP gets
#     421 4.7.0 and the session closes;
#   - --max-per-ip 2: the third concurrent session from 127.0.0.1 is greeted
#     421 4.7.0, `refused` with reason `max_per_address`;
#   - --rate 4/m: the fifth connection within a minute is greeted 421 4.7.0,
#     reason `connection_rate`.
#
#     bash tests/interop/limits.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
source "$HERE/net_common.sh"
net_setup
source "$HERE/serve_tcp_lib.sh"
trap 'stop_all_serves; net_cleanup' EXIT

# client CHECK PORT: the Python client below; prints what it saw, exit 0 when as expected.
client() {
  $PY -I - "$@" <<'EOF'
import socket, sys, time
check, port = sys.argv[1], int(sys.argv[2])

def connect():
    s = socket.create_connection(("127.0.0.1", port), 10)
    s.settimeout(15)
    return s, s.makefile("rb")

def reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return lines
        lines.append(line.decode().rstrip("\r\n"))
        if len(line) < 4 or line[3:4] != b"-":
            return lines

if check == "slow":
    s, f = connect()
    reply(f)
    s.sendall(b"EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
    for _ in range(4):
        reply(f)
    start = time.monotonic()
    s.settimeout(1.0)
    data = b""
    for _ in range(20):  # one octet a second
        try:
            s.sendall(b"x")
        except OSError:
            break
        try:
            data += s.recv(4096)
        except socket.timeout:
            continue
        if data.endswith(b"\r\n"):
            break
    took = time.monotonic() - start
    got = data.decode(errors="replace").strip()
    print(repr(got), round(took, 1))
    sys.exit(0 if got.startswith("421 4.4.2") and "too slow" in got and took < 5 else 1)
elif check == "session":
    s, f = connect()
    reply(f)
    start = time.monotonic()
    got = []
    for _ in range(20):
        s.sendall(b"NOOP\r\n")
        got = reply(f)
        if got and got[0].startswith("421"):
            break
        time.sleep(0.3)
    took = time.monotonic() - start
    print(got, round(took, 1))
    sys.exit(0 if got and got[0].startswith("421 4.4.2") and 1.5 < took < 4 else 1)
elif check == "junk":
    s, f = connect()
    reply(f)
    codes = []
    for cmd in (b"NOOP", b"RSET", b"HELP", b"VRFY bob"):
        s.sendall(cmd + b"\r\n")
        r = reply(f)
        codes.append(r[-1][:3] if r else "")
    print(codes)
    sys.exit(0 if codes == ["250", "250", "214", "421"] and f.readline() == b"" else 1)
elif check == "per-ip":
    a, fa = connect()
    b, fb = connect()
    ok = reply(fa)[0].startswith("220") and reply(fb)[0].startswith("220")
    c, fc = connect()
    third = reply(fc)
    print(third)
    sys.exit(0 if ok and third and third[0].startswith("421 4.7.0") and fc.readline() == b"" else 1)
elif check == "rate":
    greetings = []
    for _ in range(5):
        s, f = connect()
        r = reply(f)
        greetings.append(r[0][:9] if r else "")
        s.close()
    print(greetings)
    sys.exit(0 if greetings[:4] == ["220 mx.in"] * 4 and greetings[4] == "421 4.7.0" else 1)
EOF
}

start_serve limits --sink --events "$work/limits.jsonl" --min-data-rate 20/2 --max-non-mail-commands 3 --max-per-ip 2
if client slow "$PORT" >"$work/slow.out" 2>&1; then pass "slow sender cut off by --min-data-rate within its window: $(cat "$work/slow.out")"
else fail "slow sender: $(cat "$work/slow.out")"; fi
if client junk "$PORT" >"$work/junk.out" 2>&1; then pass "--max-non-mail-commands: the 4th gets 421 4.7.0"
else fail "junk commands: $(cat "$work/junk.out")"; fi
if client per-ip "$PORT" >"$work/perip.out" 2>&1; then pass "--max-per-ip: the third concurrent session is greeted 421 4.7.0"
else fail "per-ip: $(cat "$work/perip.out")"; fi
sleep 0.5
stop_serve || fail "serve did not exit 0"
events_check "events: the slow session closed with reason limit" "$work/limits.jsonl" \
  "[e for e in ev if e['event'] == 'close' and e['reason'] == 'limit']"
events_check "events: too_many_commands, then the 421" "$work/limits.jsonl" \
  "[e for e in ev if e['event'] == 'error' and e['errc'] == 'too_many_commands']"
events_check "events: refused, reason max_per_address" "$work/limits.jsonl" \
  "[e for e in ev if e['event'] == 'refused' and e['reason'] == 'max_per_address']"

start_serve session --sink --events "$work/session.jsonl" --max-session-time 2
if client session "$PORT" >"$work/session.out" 2>&1; then pass "--max-session-time: 421 4.4.2 after 2 s"
else fail "session time: $(cat "$work/session.out")"; fi
stop_serve || fail "serve did not exit 0"

start_serve rate --sink --events "$work/rate.jsonl" --rate 4/m
if client rate "$PORT" >"$work/rate.out" 2>&1; then pass "--rate 4/m: the fifth connection is greeted 421 4.7.0"
else fail "rate: $(cat "$work/rate.out")"; fi
sleep 0.3
stop_serve || fail "serve did not exit 0"
events_check "events: refused, reason connection_rate" "$work/rate.jsonl" \
  "[e for e in ev if e['event'] == 'refused' and e['reason'] == 'connection_rate']"

# Bad values are usage errors.
for bad in "--rate 5" "--rate 5/d" "--min-data-rate 10" "--min-data-rate 10/0" "--max-session-time 999999999"; do
  # shellcheck disable=SC2086
  "$SANSMTP" serve --listen 127.0.0.1:0 --sink $bad >/dev/null 2>&1
  [[ $? -eq 64 ]] && pass "usage error: $bad" || fail "not a usage error: $bad"
done

net_finish "limits"
