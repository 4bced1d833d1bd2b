#!/usr/bin/env bash
# Interop test: `sansmtp send a.eml b.eml c.eml` (and --repeat) reuses one
# connection, and reconnects when the server ends it between messages.
# Asserted in what `sansmtp serve --listen` recorded (its --events log: the
# sessions, the messages, the 421s) and in the Maildir (each file
# byte-identical), and in send's own report (one result per message, the
# connection that carried it).
#
#     bash tests/interop/send_reuse.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
source "$HERE/net_common.sh"
net_setup
source "$HERE/serve_tcp_lib.sh"
trap 'stop_all_serves; net_cleanup' EXIT

for m in a b c; do printf 'Subject: message %s\n\nbody of %s\n.dot line\n' "$m" "$m" >"$work/$m.eml"; done
SEND=("$SANSMTP" send --from alice@example.org --to bob@example.net --ehlo client.interop.example --allow-failing-ehlo)

# delivered_files BOX: the Maildir's messages, each compared with the file it came from.
delivered_same() {
  local label=$1 box=$2 f m want n=0
  for f in "$box"/new/*; do
    m=$(sed -n 's/^Subject: message \(.\)\r$/\1/p' "$f")
    want=$(crlf "$work/$m.eml" | sha)
    [[ $(sha <"$f") == "$want" ]] && n=$((n + 1))
  done
  [[ $n -eq 3 ]] && pass "$label: the three messages byte-identical" || fail "$label: $n of 3 byte-identical"
}

# One connection, three transactions.
start_serve one --maildir "$work/one" --events "$work/one.jsonl"
if "${SEND[@]}" --server "127.0.0.1:$PORT" --json "$work/a.eml" "$work/b.eml" "$work/c.eml" >"$work/one.out" 2>&1; then
  pass "send a b c: exit 0"
else
  fail "send a b c"; cat "$work/one.out"
fi
stop_serve || fail "serve did not exit 0"
events_check "send a b c: one session, three messages, one QUIT" "$work/one.jsonl" \
  "len([e for e in ev if e['event'] == 'connect']) == 1 and len([e for e in ev if e['event'] == 'message']) == 3
     and len([e for e in ev if e['event'] == 'command' and e['verb'] == 'MAIL']) == 3
     and len([e for e in ev if e['event'] == 'command' and e['verb'] == 'QUIT']) == 1"
events_check "send a b c: one JSON line per message, in order, all on connection 1" "$work/one.out" \
  "[(e['index'], e['message'].split('/')[-1], e['connection'], e['ok']) for e in ev]
     == [(1, 'a.eml', 1, True), (2, 'b.eml', 1, True), (3, 'c.eml', 1, True)]"
delivered_same "send a b c" "$work/one"

# The server's LIMITS MAILMAX=2: the third message goes on a second connection.
start_serve mailmax --maildir "$work/mailmax" --events "$work/mailmax.jsonl" --max-transactions 2
"${SEND[@]}" --server "127.0.0.1:$PORT" --json "$work/a.eml" "$work/b.eml" "$work/c.eml" >"$work/mailmax.out" 2>&1 ||
  { fail "send under MAILMAX"; cat "$work/mailmax.out"; }
stop_serve || fail "serve did not exit 0"
events_check "MAILMAX=2 advertised: two sessions, no 421, three messages" "$work/mailmax.jsonl" \
  "len([e for e in ev if e['event'] == 'connect']) == 2 and len([e for e in ev if e['event'] == 'message']) == 3
     and not [e for e in ev if e['event'] == 'reply' and e['code'] == 421]"
events_check "MAILMAX=2: connections 1, 1, 2" "$work/mailmax.out" "[e['connection'] for e in ev] == [1, 1, 2]"
delivered_same "MAILMAX=2" "$work/mailmax"

# The same limit not advertised: the server closes with 421 at the third
# MAIL, and send reconnects and delivers it.
start_serve hidden --maildir "$work/hidden" --events "$work/hidden.jsonl" --max-transactions 2 --hide-limits
"${SEND[@]}" --server "127.0.0.1:$PORT" "$work/a.eml" "$work/b.eml" "$work/c.eml" >"$work/hidden.out" 2>&1 ||
  { fail "send after a 421"; cat "$work/hidden.out"; }
stop_serve || fail "serve did not exit 0"
events_check "421 between messages: the server closed, send reconnected (two sessions, three messages)" \
  "$work/hidden.jsonl" \
  "len([e for e in ev if e['event'] == 'connect']) == 2 and len([e for e in ev if e['event'] == 'message']) == 3
     and [e for e in ev if e['event'] == 'reply' and e['code'] == 421]"
grep -q '^message 3 (.*c.eml), connection 2:$' "$work/hidden.out" && pass "the report says message 3 went on connection 2" ||
  { fail "send's report"; cat "$work/hidden.out"; }
delivered_same "421 between messages" "$work/hidden"

# --repeat from stdin: one message, three times, one connection.
start_serve repeat --sink --events "$work/repeat.jsonl"
"${SEND[@]}" --server "127.0.0.1:$PORT" --repeat 3 <"$work/a.eml" >"$work/repeat.out" 2>&1 ||
  { fail "send --repeat 3"; cat "$work/repeat.out"; }
stop_serve || fail "serve did not exit 0"
events_check "--repeat 3: one session, three messages" "$work/repeat.jsonl" \
  "len([e for e in ev if e['event'] == 'connect']) == 1
     and len([e for e in ev if e['event'] == 'reply' and e['code'] == 250 and e['session'] == 1]) >= 3 + 3 + 1"
[[ $(grep -c '^delivered:' "$work/repeat.out") -eq 3 ]] && pass "--repeat 3: three results" ||
  { fail "--repeat 3 results"; cat "$work/repeat.out"; }

# No server: every message says so, exit 2.
"${SEND[@]}" --server "127.0.0.1:$(free_port)" "$work/a.eml" "$work/b.eml" >"$work/none.out" 2>&1
status=$?
[[ $status -eq 2 && $(grep -c '^not sent:' "$work/none.out") -eq 2 ]] && pass "no server: both messages not sent, exit 2" ||
  { fail "no server: exit $status"; cat "$work/none.out"; }

net_finish "send_reuse"
