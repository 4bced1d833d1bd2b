#!/usr/bin/env bash
# Interop test: `sansmtp serve --listen` against password guessing (RFC 4954,
# Security Considerations), with clients in serve_tcp_auth_client.py (/usr/bin/python3):
#   - the password checks run off the session threads: with --threads 1, a
#     session's NOOP is answered while another session's AUTH is being
#     checked against a costly hash (scrypt p=16, seconds per check);
#   - after a failed AUTH the 535 waits --auth-fail-delay-ms, doubled for
#     each failure of the same address, across sessions (and the events
#     log says how long: delay_ms);
#   - an address over --auth-max-failures gets 421 4.7.0 to AUTH;
#   - a shutdown answers a delayed AUTH with its 421 and does not wait the
#     delay out.
#
#     bash tests/interop/serve_tcp_auth.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"

work=$(mktemp -d)
source "$HERE/serve_tcp_lib.sh"
trap 'stop_all_serves; rm -rf "$work"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
client() { timeout 60 $PY -I "$HERE/serve_tcp_auth_client.py" "$@" || fail "client $1"; }

# users N R P: a users file with alice's password "correct horse" hashed
# with scrypt N, r, p (what `sansmtp passwd` writes, with chosen costs).
users() {
  $PY -I - "$@" <<'PYEOF'
import base64, hashlib, os, sys
n, r, p = (int(x) for x in sys.argv[1:4])
salt = os.urandom(16)
h = hashlib.scrypt(b"correct horse", salt=salt, n=n, r=r, p=p, maxmem=300 * 1024 * 1024, dklen=32)
b = lambda x: base64.b64encode(x).decode()
print(f"alice:$scrypt${n}${r}${p}${b(salt)}${b(h)}")
PYEOF
}

# --- a costly check does not stall the other sessions -------------------------------------
users 32768 8 16 >"$work/slow-users" || die "cannot make a users file"
start_serve slow --sink --tls-self-signed --auth-users "$work/slow-users" --threads 1
client noop-during-auth "$PORT"
stop_serve || fail "slow: serve did not exit 0 after SIGTERM"

# --- the failure delay grows across sessions from one address -----------------------------
users 16384 8 1 >"$work/users" || die "cannot make a users file"
start_serve delay --sink --tls-self-signed --auth-users "$work/users" --events "$work/delay.jsonl" \
  --auth-fail-delay-ms 1000 --auth-fail-delay-max-ms 8000
client delay "$PORT" 1.0 2.0
stop_serve || fail "delay: serve did not exit 0 after SIGTERM"
delays=$(grep -o '"delay_ms":[0-9]*' "$work/delay.jsonl" | tr '\n' ' ')
[[ $delays == '"delay_ms":1000 "delay_ms":2000 ' ]] || fail "delay: the events log says $delays"

# The delay is capped, and failures older than the window no longer count.
start_serve cap --sink --tls-self-signed --auth-users "$work/users" --events "$work/cap.jsonl" \
  --auth-fail-delay-ms 200 --auth-fail-delay-max-ms 300 --auth-failure-window 2
client fail "$PORT" 3
sleep 2.5
client fail "$PORT" 1
stop_serve || fail "cap: serve did not exit 0 after SIGTERM"
delays=$(grep -o '"delay_ms":[0-9]*' "$work/cap.jsonl" | tr '\n' ' ')
[[ $delays == '"delay_ms":200 "delay_ms":300 "delay_ms":300 "delay_ms":200 ' ]] || fail "cap: the events log says $delays"

# --- the per-address limit -----------------------------------------------------------------
start_serve limit --sink --tls-self-signed --auth-users "$work/users" --events "$work/limit.jsonl" \
  --auth-fail-delay-ms 0 --auth-max-failures 2 --auth-failure-window 600
client limit "$PORT"
stop_serve || fail "limit: serve did not exit 0 after SIGTERM"
grep -q '"blocked":true' "$work/limit.jsonl" || fail "limit: no blocked AUTH in the events log"

# --- a shutdown does not wait out a failure delay -----------------------------------------
start_serve shutdown --sink --tls-self-signed --auth-users "$work/users" --grace 0 --auth-fail-delay-ms 30000 \
  --auth-fail-delay-max-ms 30000
timeout 60 $PY -I "$HERE/serve_tcp_auth_client.py" fail-and-wait "$PORT" >"$work/waiting.out" 2>&1 &
waiting=$!
for ((i = 0; i < 200; i++)); do grep -q sent "$work/waiting.out" && break; sleep 0.05; done
sleep 0.5  # the check is done and the 30 s delay has begun
started=$SECONDS
stop_serve || fail "shutdown: serve did not exit 0 after SIGTERM"
(( SECONDS - started < 15 )) || fail "shutdown: serve waited $((SECONDS - started)) s for a failure delay of 30 s"
wait "$waiting"
grep -q "421" "$work/waiting.out" || fail "shutdown: the delayed AUTH did not get the shutdown's 421: $(cat "$work/waiting.out")"

[[ $FAILS -eq 0 ]] || die "$FAILS failures"
echo "serve_tcp_auth: all passed"
