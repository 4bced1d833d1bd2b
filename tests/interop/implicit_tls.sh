#!/usr/bin/env bash
# Interop test: implicit TLS (RFC 8314 section 3, "port 465"), both ways.
#   - `sansmtp serve --listen --implicit-tls` with real clients: openssl
#     s_client without -starttls, swaks --tlsc, Python smtplib.SMTP_SSL,
#     Nodemailer `secure: true`, and `sansmtp send --implicit-tls`; each
#     message lands byte-identical, the events log has the `tls` line before
#     `connect` (the handshake comes first), no STARTTLS is offered, AUTH is;
#     a plaintext client gets no greeting (tls_failed).
#   - `sansmtp send smtps://` against aiosmtpd with `ssl_context` (implicit
#     TLS): the message arrives, and aiosmtpd saw TLS.
#
#     bash tests/interop/implicit_tls.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_command swaks swaks
need_command openssl openssl
need_aiosmtpd
need_node_module nodemailer
perl -MNet::SSLeay -e 1 2>/dev/null || die "swaks --tlsc needs Net::SSLeay (apt-get install libnet-ssleay-perl)"
source "$HERE/net_common.sh"
net_setup
source "$HERE/serve_tcp_lib.sh"
trap 'stop_all_serves; net_cleanup' EXIT

printf 'Subject: over implicit TLS\n\nhello\n.dot line\n' >"$work/m.eml"
# swaks ends --data with CRLF "." CRLF itself: its copy has no final line end.
printf 'Subject: over implicit TLS\n\nhello\n.dot line' >"$work/m-swaks.eml"
# Every session of the log began with its handshake: its `tls` line comes
# before its `connect` line.
tls_first='[e for e in ev if e["event"] == "connect"] and all(
             any(t["event"] == "tls" and t["version"].startswith("TLSv1.") and t.get("session") == c["session"]
                 for t in ev[:i])
             for i, c in enumerate(ev) if c["event"] == "connect")'

mkdir -p "$work/users"
printf 'secret\n' | "$SANSMTP" passwd bob >"$work/users/file" 2>/dev/null || die "sansmtp passwd failed"
start_serve smtps --implicit-tls --tls-self-signed --maildir "$work/box" --events "$work/events.jsonl" \
  --auth-users "$work/users/file"
port=$PORT

# openssl s_client, no -starttls: the greeting and the EHLO reply over TLS.
printf 'EHLO client.interop.example\r\nQUIT\r\n' |
  timeout 20 openssl s_client -connect "127.0.0.1:$port" -quiet -ign_eof >"$work/s_client.out" 2>"$work/s_client.err"
if grep -q '^220 mx.interop.example' "$work/s_client.out" && grep -q '^250-mx.interop.example' "$work/s_client.out"; then
  pass "openssl s_client: greeting and EHLO reply over TLS"
else
  fail "openssl s_client"; cat "$work/s_client.out" "$work/s_client.err"
fi
grep -q 'STARTTLS' "$work/s_client.out" && fail "STARTTLS offered over implicit TLS" || pass "no STARTTLS offered"
grep -q '^250[- ]AUTH PLAIN LOGIN' "$work/s_client.out" && pass "AUTH offered at once" || fail "AUTH not offered"

# swaks --tlsc, with AUTH.
if timeout 30 swaks --server 127.0.0.1 --port "$port" --tlsc --helo client.interop.example --from alice@example.org \
  --to bob@example.net --auth PLAIN --auth-user bob --auth-password secret --data "$work/m-swaks.eml" \
  >"$work/swaks.log" 2>&1; then
  pass "swaks --tlsc with AUTH PLAIN"
else
  fail "swaks --tlsc"; tail -15 "$work/swaks.log"
fi

# Python smtplib.SMTP_SSL.
if $PY -I - "$port" "$work/m.eml" >"$work/smtplib.log" 2>&1 <<'EOF'; then
import smtplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP_SSL("127.0.0.1", int(sys.argv[1]), local_hostname="client.interop.example", context=ctx, timeout=20) as s:
    s.login("bob", "secret")
    # A str: smtplib makes its line ends CRLF (bytes would go as they are:
    # bare LFs, refused).
    s.sendmail("alice@example.org", ["bob@example.net"], open(sys.argv[2]).read())
EOF
  pass "smtplib.SMTP_SSL with login()"
else
  fail "smtplib.SMTP_SSL"; cat "$work/smtplib.log"
fi

# Nodemailer secure: true.
if timeout 30 node "$HERE/send_nodemailer_smtps.mjs" "$port" >"$work/nodemailer.log" 2>&1; then
  pass "Nodemailer secure: true"
else
  fail "Nodemailer secure: true"; cat "$work/nodemailer.log"
fi

# sansmtp send --implicit-tls (and the smtps:// spelling).
if "$SANSMTP" send --server "127.0.0.1:$port" --implicit-tls --tls-no-verify --ehlo client.interop.example \
  --allow-failing-ehlo --from alice@example.org --to bob@example.net --auth-user bob \
  --auth-password-file <(printf 'secret\n') <"$work/m.eml" >"$work/send.log" 2>&1; then
  pass "sansmtp send --implicit-tls with AUTH"
else
  fail "sansmtp send --implicit-tls"; cat "$work/send.log"
fi
if "$SANSMTP" send --server "smtps://127.0.0.1:$port" --tls-no-verify --ehlo client.interop.example \
  --allow-failing-ehlo --from alice@example.org --to bob@example.net --auth-user bob \
  --auth-password-file <(printf 'secret\n') <"$work/m.eml" >"$work/send2.log" 2>&1; then
  pass "sansmtp send smtps://"
else
  fail "sansmtp send smtps://"; cat "$work/send2.log"
fi

# A plaintext client: no greeting; the handshake fails.
: >"$work/plain.out"
timeout 10 $PY -I - "$port" >"$work/plain.out" 2>&1 <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"EHLO plain.example\r\n")
try:
    print(repr(s.recv(4096)))
except OSError as e:
    print("error", e)
EOF
grep -q "220" "$work/plain.out" && fail "a plaintext client got a greeting" || pass "a plaintext client gets no greeting"
sleep 0.5
stop_serve || fail "serve did not exit 0 after SIGTERM"

n=$(find "$work/box/new" -type f | wc -l)
[[ $n -eq 5 ]] && pass "five messages delivered" || fail "$n messages delivered, expected 5"
want=$(crlf "$work/m.eml" | sha)
same=0
for f in "$work"/box/new/*; do
  grep -q 'Subject: over implicit TLS' "$f" || continue
  [[ $(sha <"$f") == "$want" ]] && same=$((same + 1))
done
# swaks, smtplib and the two sends carry m.eml; Nodemailer writes its own.
[[ $same -eq 4 ]] && pass "the four copies of m.eml are byte-identical" || fail "$same of 4 copies byte-identical"
events_check "events: every session's tls line comes before its connect line" "$work/events.jsonl" "$tls_first"
events_check "events: AUTH succeeded over implicit TLS (5 sessions)" "$work/events.jsonl" \
  "len([e for e in ev if e['event'] == 'auth' and e.get('ok')]) == 5"
events_check "events: the plaintext client closed as tls_failed" "$work/events.jsonl" \
  "[e for e in ev if e['event'] == 'close' and e['reason'] == 'tls_failed']"

# --- sansmtp send smtps:// against aiosmtpd's implicit TLS ---------------------------
make_cert "$work/a.crt" "$work/a.key"
start_server aiosmtpd $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio" --implicit-tls "$work/a.crt" "$work/a.key"
if "$SANSMTP" send --server "smtps://localhost:$port" --tls-ca "$work/a.crt" --ehlo client.interop.example \
  --allow-failing-ehlo --from alice@example.org --to bob@example.net <"$work/m.eml" >"$work/send-aio.log" 2>&1; then
  pass "sansmtp send smtps:// to aiosmtpd (certificate verified against --tls-ca)"
else
  fail "sansmtp send smtps:// to aiosmtpd"; cat "$work/send-aio.log" "$work/aiosmtpd.log"
fi
if [[ -f $work/aio/1.json ]] && $PY -I -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["tls"] else 1)' "$work/aio/1.json"; then
  pass "aiosmtpd saw the message over TLS"
else
  fail "aiosmtpd did not see TLS"
fi
[[ $(crlf "$work/m.eml" | sha) == $(sha <"$work/aio/1.eml" 2>/dev/null) ]] && pass "aiosmtpd got it byte-identical" ||
  fail "aiosmtpd's copy differs"

net_finish "implicit_tls"
