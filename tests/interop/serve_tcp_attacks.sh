#!/usr/bin/env bash
# Interop test: `sansmtp serve --listen` over TCP against attacks and
# operations (clients in tests/interop/serve_tcp_client.py, /usr/bin/python3):
#   - SMTP smuggling (CVE-2023-51764/51765/51766): each non-canonical end of
#     data (\n.\n, \r.\r\n, \n.\r\n, \r\n.\n, \r\n.\r) followed by a second
#     MAIL/RCPT/DATA in the same write: under reject nothing is delivered,
#     under --bare-lf/--bare-cr normalize exactly the strict reading (the
#     second transaction is message text), never a second message;
#   - STARTTLS command injection (CVE-2011-0411): commands pipelined after
#     STARTTLS are never executed; reject closes, discard drops them;
#   - graceful shutdown: SIGTERM with sessions open; a message finishes in
#     the grace period, new work and idle sessions get 421 4.3.2, nothing
#     half-written in new/, exit 0;
#   - --max-sessions: the next connection gets 421 4.3.2.
#
#     bash tests/interop/serve_tcp_attacks.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"

work=$(mktemp -d)
source "$HERE/serve_tcp_lib.sh"
CLIENT_PID=
trap '[[ -n $CLIENT_PID ]] && kill "$CLIENT_PID" 2>/dev/null; stop_all_serves; rm -rf "$work"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
finish_serve() { stop_serve || fail "$1: serve did not exit 0 after SIGTERM"; }
client() { timeout 30 $PY -I "$HERE/serve_tcp_client.py" "$@"; }

# commands_in EVENTS VERB: how many VERB commands the sessions executed.
commands_in() { grep -c "\"event\":\"command\",\"verb\":\"$2\"" "$1"; }

# --- SMTP smuggling ----------------------------------------------------------------------
for policy in reject normalize; do
  flags=()
  [[ $policy == normalize ]] && flags=(--bare-lf normalize --bare-cr normalize)
  start_serve "smuggle-$policy" --maildir "$work/smuggle-$policy" --events "$work/smuggle-$policy.jsonl" "${flags[@]}"
  client smuggle "$PORT" "$work/smuggle-$policy" "$policy" || fail "smuggling under $policy"
  finish_serve "smuggling $policy"
  # Five sessions, one MAIL each: the smuggled MAIL never ran as a command.
  mails=$(commands_in "$work/smuggle-$policy.jsonl" MAIL)
  [[ $mails -eq 5 ]] || fail "smuggling $policy: $mails MAIL commands executed, expected 5"
done

# --- STARTTLS command injection --------------------------------------------------------
for policy in reject discard; do
  events=$work/injection-$policy.jsonl
  start_serve "injection-$policy" --maildir "$work/injection-$policy" --tls-self-signed \
    --starttls-injection "$policy" --events "$events"
  client injection "$PORT" "$policy" || fail "STARTTLS injection under $policy"
  finish_serve "injection $policy"
  # Two sessions; what was pipelined after STARTTLS (RSET; EHLO x, MAIL)
  # never ran: no RSET at all, no EHLO with the name x.
  [[ $(commands_in "$events" RSET) -eq 0 ]] || fail "injection $policy: the injected RSET ran"
  grep -q '"verb":"EHLO","name":"x"' "$events" && fail "injection $policy: the injected EHLO ran"
  if [[ $policy == reject ]]; then
    [[ $(grep -c '"reason":"session_closed"' "$events") -eq 2 ]] || fail "injection reject: sessions not closed"
  else
    [[ $(grep -c '"event":"tls"' "$events") -eq 2 ]] || fail "injection discard: TLS not established twice"
  fi
done

# --- graceful shutdown ---------------------------------------------------------------------
box=$work/shutdown
start_serve shutdown --maildir "$box" --grace 2 --events "$work/shutdown.jsonl"
client shutdown "$PORT" "$work/ready" >"$work/shutdown-client.log" 2>&1 &
CLIENT_PID=$!
for ((i = 0; i < 200; i++)); do [[ -s $work/ready ]] && break; sleep 0.05; done
[[ -s $work/ready ]] || fail "shutdown: the clients did not get ready"
started=$(date +%s.%N)
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
status=$?
elapsed=$(perl -e "printf '%.1f', $(date +%s.%N) - $started")
SERVE_PIDS=()
wait "$CLIENT_PID" || { fail "shutdown: the clients saw something wrong"; cat "$work/shutdown-client.log"; }
CLIENT_PID=
[[ $status -eq 0 ]] || fail "shutdown: exit status $status after SIGTERM"
# Within the grace period (2 s) plus the time to write the 421s and close.
perl -e "exit($elapsed >= 1.5 && $elapsed < 6 ? 0 : 1)" || fail "shutdown took ${elapsed}s with --grace 2"
[[ $(ls "$box/new" | wc -l) -eq 1 ]] || fail "shutdown: $(ls "$box/new" | wc -l) messages in new/, expected the finished one"
[[ -z $(ls -A "$box/tmp") ]] || fail "shutdown: the interrupted message was left in tmp/"
grep -q 'second half' "$box"/new/* || fail "shutdown: the finished message is not complete"
[[ $(grep -c '"reason":"shutdown"' "$work/shutdown.jsonl") -eq 5 ]] || fail "shutdown: not every session ended by the shutdown"
# The driver's own 421s (new work during the grace period, the grace over)
# are in the log as replies, like the application's.
[[ $(grep -c '"event":"reply","code":421,"session":' "$work/shutdown.jsonl") -eq 5 ]] ||
  fail "shutdown: $(grep -c '"event":"reply","code":421' "$work/shutdown.jsonl") 421 replies in the events log, expected 5"
[[ $FAILS -eq 0 ]] && echo "ok: graceful shutdown in ${elapsed}s, exit 0"

# --- --max-sessions ------------------------------------------------------------------------------
start_serve max-sessions --sink --max-sessions 2 --events "$work/max.jsonl"
client max-sessions "$PORT" 2 || fail "--max-sessions"
finish_serve "--max-sessions"
grep -q '"event":"refused"' "$work/max.jsonl" || fail "--max-sessions: the refusal is not in the events log"
[[ $(grep -c '"event":"reply","code":421,"peer":"127.0.0.1:' "$work/max.jsonl") -eq 1 ]] ||
  fail "--max-sessions: the 421 greeting is not in the events log as a reply"

# Without --max-sessions the limit is 100 (Postfix's default process
# limit): 100 idle connections are served, the 101st gets 421 4.3.2, logged.
# (--max-per-ip 0: they all come from 127.0.0.1, and its default is 50.)
start_serve max-default --sink --max-per-ip 0 --events "$work/max-default.jsonl"
client max-sessions "$PORT" 100 || fail "--max-sessions default (100)"
finish_serve "--max-sessions default"
[[ $(grep -c '"event":"reply","code":421,"peer":"127.0.0.1:' "$work/max-default.jsonl") -eq 1 ]] ||
  fail "--max-sessions default: the 421 greeting of the 101st connection is not in the events log"

if [[ $FAILS -ne 0 ]]; then echo "$FAILS serve --listen attack/operation checks failed"; exit 1; fi
echo "all serve --listen attack and operation checks passed"
