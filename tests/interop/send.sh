#!/usr/bin/env bash
# Interop test: `sansmtp send` (the Asio client driver) against real SMTP
# servers, nothing mocked: aiosmtpd (plain, STARTTLS, AUTH, LMTP), npm
# smtp-server (PIPELINING, SIZE, per-recipient refusal), Postfix's smtp-sink
# (fault injection) and a private Postfix instance (STARTTLS, BDAT, and the
# origin story: a pod-style EHLO name refused at RCPT, diagnosed).  Every
# message that is accepted must arrive byte-identical (sha256, line ends
# made CRLF); every failure must give the right exit status and say why.
#
#     bash tests/interop/send.sh /path/to/sansmtp
#
# KEEP_WORK=1 keeps the work directory.  Needs: /usr/bin/python3 with
# python3-aiosmtpd, node + `npm ci --prefix tests/interop`, postfix, openssl;
# root (Postfix).  Exit 0: all checks passed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
source "$HERE/net_common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_aiosmtpd
need_node_module smtp-server
need_command smtp-sink postfix
need_command postfix postfix
need_command openssl openssl
[[ $(id -u) -eq 0 ]] || die "the private Postfix instance needs root"
net_setup

EHLO=mail.acme-corp.com  # passes ehlo-check (names under .example fail it); the host's own may not
make_cert "$work/cert.pem" "$work/key.pem"
# The message: LF line ends, dot lines (dot-stuffing), ~300 KiB (more than
# the client's 256 KiB output high-water mark: paused{write_output}).
$PY -I - "$work/msg.eml" <<'PYEOF'
import sys
lines = ["From: app@interop.example", "To: user@interop.example", "Subject: sansmtp send interop",
         "Date: Tue, 01 Dec 2026 00:00:00 +0000", "Message-ID: <send-interop@interop.example>", "",
         ".a line that starts with a dot", ".", "..", "a line with a lone CR\rinside"]
lines += ["line %06d %s" % (i, "x" * 60) for i in range(4200)]
open(sys.argv[1], "wb").write(("\n".join(lines) + "\n").encode())
PYEOF
want=$(sha_norm "$work/msg.eml")

# --- aiosmtpd, plain (it offers no STARTTLS: opportunistic goes on in plaintext)
start_server aiosmtpd-plain $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio-plain"
run_send aiosmtpd-plain 0 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example \
  --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-plain 'd["ok"] and d["ehlo_name"] == "'$EHLO'" and d["error"] is None and d["diagnosis"] is None'
check aiosmtpd-plain 'd["recipients"] == [{"address": "user@interop.example", "code": 250, "enhanced": "2.0.0", "text": "Message accepted"}]'
same_message "aiosmtpd plain" "$work/aio-plain/1.eml" "$want"
# 8-bit octets in a file: declared as BODY=8BITMIME (RFC 6152), which aiosmtpd offers.
printf 'Subject: caf\xc3\xa9\n\nna\xc3\xafve\n' >"$work/8bit.eml"
run_send aiosmtpd-8bit 0 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example \
  --ehlo $EHLO <"$work/8bit.eml"
same_message "aiosmtpd 8-bit" "$work/aio-plain/2.eml" "$(sha_norm "$work/8bit.eml")"
check_file "aiosmtpd 8-bit: BODY=8BITMIME declared" "$work/aio-plain/2.json" '"BODY=8BITMIME" in d["mail_options"]'
# --bdat is a demand: aiosmtpd offers no CHUNKING, so nothing is sent.
run_send aiosmtpd-no-chunking 2 --bdat --server "127.0.0.1:$port" --from app@interop.example \
  --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-no-chunking 'd["error"] == {"step": "submit", "message": "--bdat: the server does not offer CHUNKING (RFC 3030)", "code": None}'
# A message that cannot be read to its end (stdin is a directory: EISDIR
# while it is spooled, before connecting) is never sent, let alone ended as
# if whole.
run_send aiosmtpd-unreadable 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example \
  --ehlo $EHLO </
check aiosmtpd-unreadable 'd["error"]["step"] == "source" and "Is a directory" in d["error"]["message"] and d["recipients"][0]["code"] is None'
sleep 0.3
[[ -e $work/aio-plain/3.eml ]] && fail "aiosmtpd: a cut message was delivered" || pass "aiosmtpd: nothing delivered from a cut message"
# From a pipe: spooled first (its SIZE is then known), then sent.
start_server aiosmtpd-pipe $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio-pipe"
cat "$work/msg.eml" | run_send aiosmtpd-pipe 0 --server "127.0.0.1:$port" --from app@interop.example \
  --to a@interop.example --to b@interop.example --ehlo $EHLO
check aiosmtpd-pipe 'd["ok"] and [r["code"] for r in d["recipients"]] == [250, 250]'
same_message "aiosmtpd from a pipe" "$work/aio-pipe/1.eml" "$want"
check_file "aiosmtpd from a pipe: both recipients in one transaction" "$work/aio-pipe/1.json" \
  'd["rcpt_tos"] == ["a@interop.example", "b@interop.example"] and d["mail_from"] == "app@interop.example"'

# --- aiosmtpd with STARTTLS required by the server, and by us
start_server aiosmtpd-tls $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio-tls" --tls "$work/cert.pem" "$work/key.pem"
run_send aiosmtpd-tls 0 --server "localhost:$port" --starttls required --tls-ca "$work/cert.pem" \
  --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-tls 'd["ok"]'
same_message "aiosmtpd STARTTLS" "$work/aio-tls/1.eml" "$want"
check_file "aiosmtpd STARTTLS: the message came over TLS" "$work/aio-tls/1.json" 'd["tls"] is True'
# Strict by default: the self-signed certificate is not in the system store.
run_send aiosmtpd-tls-untrusted 2 --server "localhost:$port" --starttls required \
  --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-tls-untrusted 'not d["ok"] and d["error"]["step"] == "tls" and "certificate" in d["error"]["message"] and d["recipients"][0]["code"] is None'
# The certificate names localhost, not 127.0.0.1: the host name check refuses it.
run_send aiosmtpd-tls-wrong-name 2 --server "127.0.0.1:$port" --starttls required --tls-ca "$work/cert.pem" \
  --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-tls-wrong-name 'd["error"]["step"] == "tls" and "mismatch" in d["error"]["message"]'
# --tls-no-verify: it goes through.
run_send aiosmtpd-tls-no-verify 0 --server "127.0.0.1:$port" --tls-no-verify \
  --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
# Plaintext refused by the server (require_starttls) when we say off.
run_send aiosmtpd-tls-off 2 --server "localhost:$port" --starttls off \
  --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-tls-off 'd["recipients"][0]["code"] == 530 and d["diagnosis"]["kind"] == "tls-required"'

# --- aiosmtpd with AUTH (only after TLS)
printf 's3cret\n' >"$work/password"
printf 'wrong\n' >"$work/bad-password"
start_server aiosmtpd-auth $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio-auth" --tls "$work/cert.pem" "$work/key.pem" \
  --auth alice s3cret
run_send aiosmtpd-auth 0 --server "localhost:$port" --tls-ca "$work/cert.pem" --auth-user alice \
  --auth-password-file "$work/password" --from app@interop.example --to user@interop.example --ehlo $EHLO \
  <"$work/msg.eml"
check aiosmtpd-auth 'd["ok"]'
same_message "aiosmtpd AUTH" "$work/aio-auth/1.eml" "$want"
# On a terminal: a line per step, server text escaped, the password nowhere.
if command -v script >/dev/null; then
  SANSMTP_ARGS="send --server localhost:$port --tls-ca $work/cert.pem --auth-user alice --auth-password-file $work/password --from app@interop.example --to user@interop.example --ehlo $EHLO"
  timeout 60 script -qec "$SANSMTP $SANSMTP_ARGS <$work/msg.eml" /dev/null >"$work/terminal.out" 2>&1 ||
    fail "send on a terminal: exit $?"
  for step in "connected to 127.0.0.1 port $port" "greeting: 220 mx.aiosmtpd.interop.example" \
      "EHLO $EHLO: 250" "STARTTLS: 220" "TLS: TLSv1." "certificate CN=localhost: verified" "AUTH PLAIN: 235" \
      "MAIL FROM: 250" "RCPT TO:<user@interop.example>: 250" "DATA: 354" "the end of the message data: 250" \
      "QUIT: 221" "delivered: user@interop.example: 250 2.0.0 Message accepted"; do
    grep -qF "$step" "$work/terminal.out" && pass "send on a terminal shows: $step" || fail "send on a terminal: no '$step'"
  done
  grep -q s3cret "$work/terminal.out" && fail "send on a terminal: the password was printed"
  grep -qF "$(printf 'alice\0s3cret' | base64)" "$work/terminal.out" && fail "send on a terminal: the AUTH PLAIN response was printed"
fi
run_send aiosmtpd-auth-bad 2 --server "localhost:$port" --tls-ca "$work/cert.pem" --auth-user alice \
  --auth-password-file "$work/bad-password" --from app@interop.example --to user@interop.example --ehlo $EHLO \
  <"$work/msg.eml"
check aiosmtpd-auth-bad 'd["error"]["step"] == "auth" and d["error"]["code"] == 535 and d["diagnosis"]["kind"] == "auth-failed"'
grep -q s3cret "$work/aiosmtpd-auth.out" "$work/aiosmtpd-auth.err" && fail "aiosmtpd AUTH: the password was printed"

# --- aiosmtpd speaking LMTP (RFC 2033): one reply per recipient
start_server aiosmtpd-lmtp $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio-lmtp" --lmtp
run_send aiosmtpd-lmtp 0 --lmtp --server "127.0.0.1:$port" --from app@interop.example \
  --to a@interop.example --to b@interop.example --ehlo $EHLO <"$work/msg.eml"
check aiosmtpd-lmtp '[r["text"] for r in d["recipients"]] == ["delivered to a@interop.example", "delivered to b@interop.example"]'
same_message "aiosmtpd LMTP" "$work/aio-lmtp/1.eml" "$want"

# --- smtp-server: PIPELINING, a refused recipient, SIZE
start_server smtp-server node "$HERE/send_smtp_server.mjs" "$work/node"
run_send smtp-server 1 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example \
  --to nobody@interop.example --to other@interop.example --ehlo $EHLO <"$work/msg.eml"
check smtp-server 'not d["ok"] and [(r["address"], r["code"], r["enhanced"]) for r in d["recipients"]] == [("user@interop.example", 250, "2.0.0"), ("nobody@interop.example", 550, "5.1.1"), ("other@interop.example", 250, "2.0.0")]'
check smtp-server 'd["diagnosis"]["kind"] == "mailbox-unknown" and d["diagnosis"]["after"] == "RCPT TO" and d["error"] is None'
same_message "smtp-server" "$work/node/1.eml" "$want"
$PY -I - "$work/node/wire.jsonl" <<'PYEOF' && pass "smtp-server: MAIL, RCPTs and DATA went in one write (PIPELINING, RFC 2920)" || fail "smtp-server: the envelope was not pipelined"
import json, sys
chunks = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if any("MAIL FROM:" in c and c.count("RCPT TO:") == 3 and "DATA\r\n" in c for c in chunks) else 1)
PYEOF
start_server smtp-server-size env SIZE=1000 node "$HERE/send_smtp_server.mjs" "$work/node-size"
run_send smtp-server-size 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example \
  --ehlo $EHLO <"$work/msg.eml"
check smtp-server-size 'd["error"]["step"] == "submit" and "larger than the server" in d["error"]["message"] and d["recipients"][0]["code"] is None'
grep -q "MAIL FROM" "$work/node-size/wire.jsonl" 2>/dev/null && fail "smtp-server SIZE: MAIL was sent for a message over the limit"
cat "$work/msg.eml" | run_send smtp-server-size-pipe 2 --server "127.0.0.1:$port" --from app@interop.example \
  --to user@interop.example --ehlo $EHLO
# Spooled, a piped message's size is known too: refused before MAIL.
check smtp-server-size-pipe 'd["error"]["step"] == "submit" and "larger than the server" in d["error"]["message"] and d["recipients"][0]["code"] is None'

# --- smtp-sink: faults on purpose
sink sink-ok
run_send sink-ok 0 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
sink sink-ehlo-500 -f EHLO  # RFC 5321 4.1.4: HELO instead, and that is no failure
run_send sink-ehlo-500 0 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-ehlo-500 'd["ok"] and d["diagnosis"] is None and d["error"] is None'
sink sink-no-8bitmime -8
run_send sink-no-8bitmime 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/8bit.eml"
check sink-no-8bitmime 'd["error"]["step"] == "submit" and "8BITMIME" in d["error"]["message"]'
sink sink-421 -Q CONNECT
run_send sink-421 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-421 'd["error"]["code"] == 421 and d["error"]["step"] == "greeting" and d["diagnosis"]["kind"] == "temporary"'
sink sink-mail-4xx -r MAIL
run_send sink-mail-4xx 2 --server "127.0.0.1:$port" --from app@interop.example --to a@interop.example --to b@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-mail-4xx '[r["code"] for r in d["recipients"]] == [450, 450] and d["diagnosis"]["after"] == "MAIL FROM" and d["diagnosis"]["kind"] == "temporary"'
sink sink-rcpt-421 -Q RCPT
run_send sink-rcpt-421 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-rcpt-421 'd["error"]["step"] == "session" and d["error"]["code"] == 421 and "RCPT TO" in d["error"]["message"] and d["recipients"][0]["code"] is None'
sink sink-rcpt-4xx -r RCPT
run_send sink-rcpt-4xx 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-rcpt-4xx 'd["recipients"][0]["code"] == 450 and d["diagnosis"]["kind"] == "temporary" and d["diagnosis"]["after"] == "RCPT TO"'
sink sink-rcpt-5xx -f RCPT
run_send sink-rcpt-5xx 2 --server "127.0.0.1:$port" --from app@interop.example --to a@interop.example --to b@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-rcpt-5xx '[r["code"] for r in d["recipients"]] == [500, 500] and d["diagnosis"]["after"] == "RCPT TO"'
sink sink-data-5xx -f DATA
run_send sink-data-5xx 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-data-5xx 'd["recipients"][0]["code"] == 500 and d["diagnosis"]["after"] == "DATA"'
sink sink-dot-4xx -r .
run_send sink-dot-4xx 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-dot-4xx 'd["recipients"][0]["code"] == 450 and d["diagnosis"]["after"] == "the end of the message data" and d["diagnosis"]["kind"] == "temporary"'
sink sink-drop -q DATA
run_send sink-drop 2 --server "127.0.0.1:$port" --from app@interop.example --to user@interop.example --ehlo $EHLO <"$work/msg.eml"
check sink-drop 'd["error"]["step"] == "session" and "closed the connection" in d["error"]["message"]'

# --- a private Postfix: STARTTLS, BDAT, and the EHLO name refused at RCPT
start_postfix
run_send postfix-data 0 --server "localhost:$postfix_port" --starttls required --tls-ca "$work/cert.pem" \
  --from app@interop.example --to box@vmail.interop.example --ehlo $EHLO <"$work/msg.eml"
run_send postfix-bdat 0 --bdat --server "localhost:$postfix_port" --starttls required --tls-ca "$work/cert.pem" \
  --from app@interop.example --to box@vmail.interop.example --ehlo $EHLO <"$work/msg.eml"
wait_maildir "$work/vmail/box" 2 || fail "postfix: two messages did not arrive in the Maildir"
postfix_same_messages "$work/vmail/box" "$work/msg.eml"
grep -q "bdat=.*quit" "$work/postfix/maillog" && pass "postfix logged a BDAT session" || fail "postfix: no BDAT in its log"
# The origin story: the pod's name passes EHLO and MAIL and is refused at RCPT.
run_send_text postfix-pod-refused 64 --server "localhost:$postfix_port" --from app@interop.example \
  --to box@vmail.interop.example --ehlo web-7d9f8b6c5-x2x4z <"$work/msg.eml"
grep -q -- "--allow-failing-ehlo" "$work/postfix-pod-refused.err" && pass "send refuses a failing EHLO name and names the override" || fail "send: no hint for a failing EHLO name"
run_send postfix-pod 2 --allow-failing-ehlo --server "localhost:$postfix_port" --starttls off \
  --from app@interop.example --to box@vmail.interop.example --ehlo web-7d9f8b6c5-x2x4z <"$work/msg.eml"
check postfix-pod 'd["recipients"][0]["code"] == 504 and d["recipients"][0]["enhanced"] == "5.5.2" and d["diagnosis"]["kind"] == "helo-rejected" and d["diagnosis"]["after"] == "RCPT TO" and "web-7d9f8b6c5-x2x4z" in d["diagnosis"]["explanation"]'
run_send_text postfix-pod-text 2 --allow-failing-ehlo --server "localhost:$postfix_port" --starttls off \
  --from app@interop.example --to box@vmail.interop.example --ehlo web-7d9f8b6c5-x2x4z <"$work/msg.eml"
grep -q 'diagnosis: helo-rejected: .*web-7d9f8b6c5-x2x4z' "$work/postfix-pod-text.out" && pass "send (text): the refusal is about the EHLO name, and names it" || fail "send (text): no HELO diagnosis"

# Behind a load balancer: a PROXY header first (v1, then v2) to the smtpd
# that expects one; Postfix takes the claimed address as the client's, and
# its Received header and log say so.
rm -f "$work"/vmail/box/new/*
for v in v1 v2; do
  run_send "postfix-proxy-$v" 0 --server "127.0.0.1:$postfix_proxy_port" --starttls off --proxy-protocol "$v" \
    --proxy-source 203.0.113.9:4242 --from app@interop.example --to box@vmail.interop.example --ehlo $EHLO <"$work/msg.eml"
done
wait_maildir "$work/vmail/box" 2 || fail "postfix behind PROXY: two messages did not arrive"
n=$(grep -l "^Received: from $EHLO (unknown \[203.0.113.9\])" "$work"/vmail/box/new/* 2>/dev/null | wc -l)
[[ $n -eq 2 ]] && pass "postfix behind PROXY v1 and v2: Received names the claimed client 203.0.113.9" ||
  fail "postfix behind PROXY: $n of 2 Received headers name 203.0.113.9: $(grep -h '^Received: from' "$work"/vmail/box/new/* | head -4)"
grep -q "connect from unknown\[203.0.113.9\]" "$work/postfix/maillog" && pass "postfix logged the proxied client" ||
  fail "postfix did not log 203.0.113.9: $(grep 'connect from' "$work/postfix/maillog" | tail -3)"
run_send_text proxy-source-alone 64 --server "127.0.0.1:$postfix_proxy_port" --proxy-source 203.0.113.9:1 \
  --from app@interop.example --to box@vmail.interop.example --ehlo $EHLO <"$work/msg.eml"
run_send_text proxy-bad-version 64 --server "127.0.0.1:$postfix_proxy_port" --proxy-protocol v3 \
  --from app@interop.example --to box@vmail.interop.example --ehlo $EHLO <"$work/msg.eml"
run_send_text proxy-bad-source 64 --server "127.0.0.1:$postfix_proxy_port" --proxy-protocol v1 --proxy-source host.example:1 \
  --from app@interop.example --to box@vmail.interop.example --ehlo $EHLO <"$work/msg.eml"

net_finish "interop send"
