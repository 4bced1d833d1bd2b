#!/usr/bin/env bash
# Interop test: sansmtp against itself over TCP, both Asio drivers: `sansmtp
# send` (STARTTLS required, AUTH PLAIN with a users file from `sansmtp
# passwd`, DATA and BDAT, a message of dot lines and bare line ends) into
# `sansmtp serve --listen` (a self-signed certificate, a Maildir); every
# message arrives byte-identical after line-end normalisation, and AUTH with
# a wrong password or without TLS is refused.
#
#     bash tests/interop/send_serve.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
source "$HERE/net_common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
net_setup

printf 'correct horse\n' >"$work/password"
printf 'wrong horse\n' >"$work/wrong"
# The same password as the first line of a file with more in it (a CRLF end,
# a blank line, notes): --auth-password-file takes the first line only.
printf 'correct horse\r\n\nnotes: not the password\n' >"$work/password-notes"
"$SANSMTP" passwd alice <"$work/password" >"$work/users" || die "passwd failed"
# The server itself in the background (no wrapper shell or pipe: the PID
# recorded is the server's, so the cleanup stops it), its port read from
# its one "listening on" line.
"$SANSMTP" serve --listen 127.0.0.1:0 --maildir "$work/box" --hostname mx.selftest.example --tls-self-signed \
  --auth-users "$work/users" --events "$work/events.jsonl" >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
serve_port=
for _ in $(seq 200); do
  serve_port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/serve.out")
  [[ -n $serve_port ]] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n $serve_port ]] || { cat "$work/serve.log" >&2; die "serve did not start"; }

printf 'Subject: self test\n\n.leading dot\n..two dots\nbare\rCR and\nbare LF\n.\nlast line without end' \
  >"$work/message"
# The message's last line has no line end: the client ends it with CRLF
# before the end of the data (RFC 5321 section 4.1.1.4), as DATA needs.
{ cat "$work/message"; printf '\n'; } >"$work/expected"
want=$(sha_norm "$work/expected")

n=0
for mode in data bdat; do
  extra=() password_file=$work/password
  [[ $mode == bdat ]] && extra=(--bdat) password_file=$work/password-notes
  run_send "$mode" 0 --server "127.0.0.1:$serve_port" --ehlo mail.acme-corp.com --starttls required \
    --tls-no-verify --auth-user alice --auth-password-file "$password_file" \
    --from alice@selftest.example --to bob@selftest.example --to carol@selftest.example "${extra[@]}" \
    <"$work/message"
  check "$mode" 'd["ok"] and len(d["recipients"]) == 2 and all(r["code"] == 250 for r in d["recipients"])'
  n=$((n + 1))
  for _ in $(seq 50); do [[ $(ls "$work/box/new" 2>/dev/null | wc -l) -ge $n ]] && break; sleep 0.1; done
  newest=$(ls -t "$work/box/new" | head -n 1)
  same_message "$mode" "$work/box/new/$newest" "$want"
done

# A wrong password: 535, nothing delivered, exit 2.
run_send wrong-password 2 --server "127.0.0.1:$serve_port" --ehlo mail.acme-corp.com --starttls required \
  --tls-no-verify --auth-user alice --auth-password-file "$work/wrong" \
  --from alice@selftest.example --to bob@selftest.example <"$work/message"
check wrong-password 'not d["ok"] and "535" in json.dumps(d)'
# Without TLS the server neither offers nor takes AUTH: MAIL is refused (530).
run_send no-tls 2 --server "127.0.0.1:$serve_port" --ehlo mail.acme-corp.com --starttls off \
  --from alice@selftest.example --to bob@selftest.example <"$work/message"
check no-tls 'not d["ok"]'
if [[ $(ls "$work/box/new" | wc -l) -eq 2 ]]; then pass "nothing else delivered"
else fail "$(ls "$work/box/new" | wc -l) messages in the Maildir, expected 2"; fi
if grep -q '"event":"tls"' "$work/events.jsonl" && grep -q '"user":"alice"' "$work/events.jsonl" &&
   ! grep -q 'horse' "$work/events.jsonl"; then pass "events: TLS and AUTH logged, no password"
else fail "events log: $(head -c 600 "$work/events.jsonl")"; fi

# The server stops on SIGTERM (exit 0), and nothing this test started is
# left running: no process still serves this test's Maildir.
kill -TERM "$serve_pid"
wait "$serve_pid"
status=$?
[[ $status -eq 0 ]] && pass "serve exited 0 after SIGTERM" || fail "serve exited $status after SIGTERM"
left=$(pgrep -f -- "--maildir $work/box" || true)
if [[ -z $left ]]; then pass "no server left running"
else fail "processes left running: $(ps -o pid=,args= -p "${left//$'\n'/,}")"; kill $left 2>/dev/null; fi

net_finish "send_serve"
