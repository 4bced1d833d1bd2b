#!/usr/bin/env bash
# Interop test: real SMTP clients against `sansmtp serve --listen` over TCP
# on 127.0.0.1 (port 0: the server prints the port it got).
#   - swaks: plain, --pipeline, --tls, AUTH PLAIN and LOGIN after STARTTLS,
#     a 10 MiB message, lines starting with dots;
#   - Python smtplib (/usr/bin/python3): starttls() + login() + send_message()
#     (once, and eight at once on --threads 4),
#     and AUTH before TLS refused;
#   - Nodemailer: its default EHLO name (in the --events log) and `name:`;
#   - openssl s_client -starttls smtp (the self-signed certificate's CN);
#   - a certificate from --tls-cert/--tls-key, verified for the server's name;
#     TLS 1.1 refused, TLS 1.2 accepted;
#   - Postfix smtp-source: 200 messages over 20 parallel sessions (one
#     thread into a Maildir; four threads into --sink).
# Every message must land in the Maildir byte-identical to what was sent
# (sha256 of the file against the CRLF form of the message), and every
# server must exit 0 after SIGTERM.
#
#     bash tests/interop/serve_tcp.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_command swaks swaks
need_command openssl openssl
need_command smtp-source postfix
need_node_module nodemailer
perl -MNet::SSLeay -e 1 2>/dev/null || die "swaks --tls needs Net::SSLeay (apt-get install libnet-ssleay-perl)"

work=$(mktemp -d)
source "$HERE/serve_tcp_lib.sh"
trap 'stop_all_serves; rm -rf "$work"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# finish_serve LABEL: stop the server; it must exit 0.
finish_serve() { stop_serve || fail "$1: serve did not exit 0 after SIGTERM"; }

# The messages. swaks appends CRLF "." CRLF to --data, so its files end
# without a line end; the others are compared in their CRLF form too.
printf 'Subject: dots\n\n.leading dot\n..two dots\n.\nmiddle\n...\nlast' >"$work/dots.eml"
perl -e 'print "Subject: ten MiB\n\n"; my $l = ("0123456789abcdef" x 4) . "\n"; print $l x 163840; print ".dot line\nend"' \
  >"$work/big.eml"
SWAKS=(swaks --helo client.interop.example --from alice@example.org --to bob@example.net --timeout 30)

# --- swaks over plain TCP -------------------------------------------------------
for mode in plain pipeline; do
  start_serve "swaks-$mode" --maildir "$work/swaks-$mode"
  flags=()
  [[ $mode == pipeline ]] && flags=(--pipeline)
  if timeout 30 "${SWAKS[@]}" --server "127.0.0.1:$PORT" "${flags[@]}" --data "$work/dots.eml" >"$work/swaks.log" 2>&1; then
    expect_delivered "swaks $mode" "$work/swaks-$mode" "$work/dots.eml"
  else
    fail "swaks $mode"; tail -20 "$work/swaks.log"
  fi
  [[ $mode == pipeline ]] && ! grep -q '<-  250-PIPELINING' "$work/swaks.log" && fail "swaks saw no PIPELINING"
  finish_serve "swaks $mode"
done

start_serve swaks-big --maildir "$work/swaks-big"
if timeout 40 "${SWAKS[@]}" --server "127.0.0.1:$PORT" --data "$work/big.eml" --suppress-data >"$work/swaks.log" 2>&1; then
  expect_delivered "swaks 10 MiB" "$work/swaks-big" "$work/big.eml"
else
  fail "swaks 10 MiB"; tail -20 "$work/swaks.log"
fi
finish_serve "swaks 10 MiB"

# --- STARTTLS and AUTH ------------------------------------------------------------------
printf 'secret one\n' | "$SANSMTP" passwd alice >"$work/users" || die "sansmtp passwd failed"
printf 'other pw\n' | "$SANSMTP" passwd bob >>"$work/users" || die "sansmtp passwd failed"
TLS_AUTH=(--tls-self-signed --auth-users "$work/users")

start_serve swaks-tls --maildir "$work/swaks-tls" --tls-self-signed
if timeout 30 "${SWAKS[@]}" --server "127.0.0.1:$PORT" --tls --data "$work/dots.eml" >"$work/swaks.log" 2>&1 &&
   grep -q '^=== TLS started' "$work/swaks.log"; then
  expect_delivered "swaks --tls" "$work/swaks-tls" "$work/dots.eml"
else
  fail "swaks --tls"; tail -20 "$work/swaks.log"
fi
finish_serve "swaks --tls"

for mech in PLAIN LOGIN; do
  box=$work/swaks-auth-$mech
  start_serve "swaks-auth-$mech" --maildir "$box" "${TLS_AUTH[@]}" --events "$work/auth-$mech.jsonl"
  if timeout 30 "${SWAKS[@]}" --server "127.0.0.1:$PORT" --tls --auth "$mech" --auth-user alice \
       --auth-password 'secret one' --data "$work/dots.eml" >"$work/swaks.log" 2>&1 &&
     grep -q '<~  235 ' "$work/swaks.log"; then
    expect_delivered "swaks --tls --auth $mech" "$box" "$work/dots.eml"
  else
    fail "swaks --auth $mech"; tail -20 "$work/swaks.log"
  fi
  # A wrong password: 535, and nothing delivered.
  if timeout 30 "${SWAKS[@]}" --server "127.0.0.1:$PORT" --tls --auth "$mech" --auth-user alice \
       --auth-password 'secret two' --data "$work/dots.eml" >"$work/swaks-bad.log" 2>&1 ||
     ! grep -q '<~\* 535 5.7.8' "$work/swaks-bad.log"; then
    fail "swaks --auth $mech with a wrong password was not refused with 535"; tail -5 "$work/swaks-bad.log"
  fi
  grep -q "\"event\":\"auth\",\"mechanism\":\"$mech\",\"user\":\"alice\",\"ok\":false" "$work/auth-$mech.jsonl" ||
    fail "swaks --auth $mech: failed AUTH not in the events log"
  finish_serve "swaks --auth $mech"
  [[ $(ls "$box/new" | wc -l) -eq 1 ]] || fail "swaks --auth $mech: the refused attempt delivered something"
done

# AUTH before TLS (538) and MAIL before AUTH (530): a raw client.
start_serve auth-plaintext --maildir "$work/auth-plaintext" "${TLS_AUTH[@]}"
if timeout 20 $PY -I "$HERE/serve_tcp_client.py" auth-before-tls "$PORT" alice 'secret one'; then
  echo "ok: AUTH before TLS refused (538), MAIL before AUTH refused (530)"
else
  fail "AUTH before TLS"
fi
finish_serve "AUTH before TLS"
[[ -z $(ls -A "$work/auth-plaintext/new") ]] || fail "AUTH before TLS: something was delivered"

# Python smtplib: STARTTLS, login(), send_message().
start_serve smtplib --maildir "$work/smtplib" "${TLS_AUTH[@]}"
if timeout 30 $PY -I "$HERE/serve_tcp_client.py" smtplib "$PORT" bob 'other pw' "$work/smtplib.sent"; then
  expect_delivered "smtplib starttls+login+send_message" "$work/smtplib" "$work/smtplib.sent"
else
  fail "smtplib"
fi
finish_serve smtplib

# Eight smtplib clients at once (STARTTLS, AUTH) on four threads: TLS
# sessions on strands; the same message eight times, each byte-identical.
start_serve smtplib-threads --maildir "$work/smtplib-threads" "${TLS_AUTH[@]}" --threads 4
pids=()
for i in 1 2 3 4 5 6 7 8; do
  timeout 30 $PY -I "$HERE/serve_tcp_client.py" smtplib "$PORT" bob 'other pw' "$work/smtplib-$i.sent" &
  pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
if [[ $bad -eq 0 ]] && cmp -s "$work/smtplib-1.sent" "$work/smtplib-8.sent"; then
  expect_delivered "8 concurrent smtplib sessions on --threads 4" "$work/smtplib-threads" "$work/smtplib-1.sent" 8
else
  fail "concurrent smtplib: $bad clients failed"
fi
finish_serve "smtplib --threads 4"

# openssl s_client -starttls smtp: it sends its own EHLO and STARTTLS; the
# rest is typed (-crlf: LF becomes CRLF), with pauses so that each reply is
# back before the next step.
start_serve s_client --maildir "$work/s_client" --tls-self-signed
printf 'Subject: s_client\n\n.dot over TLS\nlast' >"$work/s_client.eml"
{
  sleep 0.5
  printf 'EHLO s-client.interop.example\nMAIL FROM:<alice@example.org>\nRCPT TO:<bob@example.net>\nDATA\n'
  sleep 0.5
  printf 'Subject: s_client\n\n..dot over TLS\nlast\n.\n'
  sleep 0.5
  printf 'QUIT\n'
} | timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -crlf -quiet >"$work/s_client.log" 2>&1
if grep -q '^221 ' "$work/s_client.log" && grep -q '^depth=0 CN = mx.interop.example$' "$work/s_client.log"; then
  expect_delivered "openssl s_client -starttls smtp" "$work/s_client" "$work/s_client.eml"
else
  fail "openssl s_client"; cat "$work/s_client.log"
fi
finish_serve s_client

# TLS 1.2 is the floor: a client offering only TLS 1.1 (its own security
# level lowered so that it would) gets the server's protocol_version alert.
start_serve tls-floor --sink --tls-self-signed --events "$work/tls-floor.jsonl"
echo QUIT | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -tls1_1 \
  -cipher 'DEFAULT@SECLEVEL=0' >"$work/tls11.log" 2>&1
echo QUIT | timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -starttls smtp -tls1_2 >"$work/tls12.log" 2>&1
finish_serve "TLS floor"
if grep -q 'alert protocol version' "$work/tls11.log" && grep -q '^New, TLSv1.2' "$work/tls12.log" &&
   grep -q '"reason":"tls_failed"' "$work/tls-floor.jsonl"; then
  echo "ok: TLS 1.1 refused (protocol_version alert), TLS 1.2 accepted"
else
  fail "TLS floor"; tail -3 "$work/tls11.log" "$work/tls12.log"
fi

# A certificate from files (--tls-cert/--tls-key), verified by the client
# against it for the server's name.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mx.interop.example \
  -addext subjectAltName=DNS:mx.interop.example -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null ||
  die "openssl req failed"
start_serve tls-files --sink --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
if timeout 20 $PY -I "$HERE/serve_tcp_client.py" verified-tls "$PORT" "$work/cert.pem" mx.interop.example; then
  echo "ok: --tls-cert/--tls-key: certificate verified for mx.interop.example"
else
  fail "--tls-cert/--tls-key"
fi
finish_serve "--tls-cert"

# --- Nodemailer: its own EHLO name, then name: set ------------------------------------
printf 'Subject: nodemailer\r\n\r\n.first line has a dot\r\nlast\r\n' >"$work/nodemailer.eml"
host=$(node -e 'console.log(require("os").hostname())')
expected_name='[127.0.0.1]'  # Nodemailer's fallback for a host name without a dot
[[ $host == *.* ]] && expected_name=$host
for name in "" relay.interop.example; do
  label="nodemailer${name:+ name=$name}"
  box=$work/nodemailer-${name:-default}
  start_serve "nodemailer-${name:-default}" --maildir "$box" --events "$work/nodemailer.jsonl"
  if timeout 30 node "$HERE/nodemailer_send_raw.mjs" "$PORT" "$work/nodemailer.eml" ${name:+"$name"} \
       >"$work/node.log" 2>&1; then
    expect_delivered "$label" "$box" "$work/nodemailer.eml"
  else
    fail "$label"; cat "$work/node.log"
  fi
  finish_serve "$label"
  want=${name:-$expected_name}
  if grep -qF "\"verb\":\"EHLO\",\"name\":\"$want\"" "$work/nodemailer.jsonl"; then
    echo "ok: $label: EHLO $want in the events log"
  else
    fail "$label: EHLO $want not in the events log"; grep EHLO "$work/nodemailer.jsonl"
  fi
  rm -f "$work/nodemailer.jsonl"
done

# --- Postfix smtp-source: many sessions at once -----------------------------------------
# smtp-source -F sends each line of the file with CRLF (dot-stuffed), then
# an empty line, then the final dot ("body line\r\n\r\n.\r\n" on the wire):
# the message it sends is the file plus that empty line.
printf 'Subject: smtp-source\n\n.a dot line\nbody line\n' >"$work/source.eml"
printf 'Subject: smtp-source\n\n.a dot line\nbody line\n\n' >"$work/source.sent"
start_serve smtp-source --maildir "$work/smtp-source" --events "$work/source.jsonl"
if timeout 45 smtp-source -s 20 -m 200 -M client.interop.example -f alice@example.org -t bob@example.net \
     -F "$work/source.eml" "127.0.0.1:$PORT" >"$work/source.log" 2>&1; then
  expect_delivered "smtp-source -s 20 -m 200" "$work/smtp-source" "$work/source.sent" 200
else
  fail "smtp-source"; tail -5 "$work/source.log"
fi
finish_serve smtp-source
sessions=$(grep -c '"event":"connect"' "$work/source.jsonl")
[[ $sessions -eq 200 ]] || fail "smtp-source: $sessions sessions logged, expected 200"

# The same load on four threads, into --sink: every message counted.
start_serve smtp-source-threads --sink --threads 4 --events "$work/threads.jsonl"
if timeout 45 smtp-source -s 20 -m 200 -M client.interop.example -F "$work/source.eml" "127.0.0.1:$PORT" \
     >"$work/source.log" 2>&1; then
  finish_serve "smtp-source --threads 4"
  count=$(grep -c '"event":"message"' "$work/threads.jsonl")
  size=$(crlf "$work/source.sent" | wc -c)
  sized=$(grep -c "\"event\":\"message\",\"size\":$size," "$work/threads.jsonl")
  if [[ $count -eq 200 && $sized -eq 200 ]]; then echo "ok: smtp-source into --sink --threads 4 (200 messages)"
  else fail "smtp-source --threads 4: $count messages, $sized of $size octets"; fi
else
  fail "smtp-source --threads 4"; tail -5 "$work/source.log"
fi

if [[ $FAILS -ne 0 ]]; then echo "$FAILS serve --listen interop checks failed"; exit 1; fi
echo "all serve --listen interop checks passed"
