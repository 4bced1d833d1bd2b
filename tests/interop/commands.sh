#!/usr/bin/env bash
# Interop test: every command line that real clients send must parse under
# the strict default grammar (`sansmtp parse command`), and mean what the
# client meant.  Nothing is mocked: Python's smtplib, Nodemailer and swaks
# talk to a real aiosmtpd server (command_capture_server.py) on 127.0.0.1,
# which records the raw lines; the lines are then fed to the CLI.
#
#     bash tests/interop/commands.sh /path/to/sansmtp
#
# Needs: /usr/bin/python3 with python3-aiosmtpd, node + `npm ci --prefix
# tests/interop`, swaks.  Exit 0: all checks passed.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_aiosmtpd
need_node_module nodemailer
need_command swaks swaks

work=$(mktemp -d)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

capture=$work/capture.jsonl
coproc SERVER { exec $PY -I "$HERE/command_capture_server.py" --out "$capture" --timeout 90 2>"$work/server.log"; }
server_pid=$SERVER_PID
read -r -t 15 port <&"${SERVER[0]}" || die "capture server did not start"

FAILS=0
# step NAME COMMAND...: run a client, print its output on failure.
step() {
  local name=$1; shift
  if timeout 20 "$@" >"$work/step.log" 2>&1; then echo "ran: $name"; else
    echo "FAIL: $name:"; cat "$work/step.log"; FAILS=$((FAILS + 1)); fi
}
step smtplib $PY -I "$HERE/send_smtplib.py" "$port"
step nodemailer node "$HERE/send_nodemailer_commands.mjs" "$port"
step swaks swaks --server 127.0.0.1 --port "$port" --helo client.interop.example \
  --from swaks@interop.example --to dave@interop.example --auth PLAIN --auth-user user \
  --auth-password secret --pipeline
kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=

# The raw lines, in order, exactly as they arrived.
$PY -I - "$capture" >"$work/lines" <<'PYEOF'
import json, sys
with open(sys.argv[1]) as f:
    for rec in map(json.loads, f):
        sys.stdout.buffer.write(bytes.fromhex(rec["line_hex"]))
PYEOF
n=$(wc -l <"$work/lines")
echo "captured $n command lines:"; tr -d "\r" <"$work/lines" | sed "s/^/    /"
[[ $n -ge 20 ]] || { echo "FAIL: too few lines captured"; FAILS=$((FAILS + 1)); }

"$SANSMTP" parse command --json --smtputf8 <"$work/lines" >"$work/parsed"
status=$?
if [[ $status -ne 0 ]]; then
  echo "FAIL: a real client's line was refused (exit $status):"
  paste -d'\n' <(tr -d '\r' <"$work/lines") "$work/parsed" | grep -B1 '"error"'
  FAILS=$((FAILS + 1))
fi

# What each client meant must be what was parsed.
$PY -I - "$work/parsed" <<'PYEOF' || FAILS=$((FAILS + 1))
import json, sys
parsed = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
def has(pred, what):
    if any(pred(p) for p in parsed):
        print("PASS:", what)
        return True
    print("FAIL:", what)
    return False
ok = True
ok &= has(lambda p: p.get("verb") == "EHLO" and p.get("domain") == "client.interop.example", "EHLO client.interop.example")
ok &= has(lambda p: p.get("verb") == "MAIL" and p.get("reverse_path") == "smtplib@interop.example"
          and p["params"].get("BODY") == "8BITMIME" and "SIZE" in p["params"], "smtplib: mail FROM with size= and BODY=8BITMIME")
ok &= has(lambda p: p.get("verb") == "MAIL" and p.get("reverse_path") == "j\u00f6rg@b\u00fccher.example"
          and "SMTPUTF8" in p["params"], "smtplib/nodemailer: UTF-8 reverse path with SMTPUTF8")
ok &= has(lambda p: p.get("verb") == "RCPT" and p.get("forward_path") == "\u7528\u6237@\u4f8b\u5b50.example", "UTF-8 forward path")
ok &= has(lambda p: p.get("verb") == "RCPT" and p.get("forward_path") == '"john smith"@interop.example', "quoted local part")
ok &= has(lambda p: p.get("verb") == "MAIL" and p.get("reverse_path") == "nodemailer@interop.example", "nodemailer MAIL")
ok &= has(lambda p: p.get("verb") == "MAIL" and p.get("reverse_path") == "swaks@interop.example", "swaks MAIL")
ok &= has(lambda p: p.get("verb") == "AUTH" and p.get("mechanism") == "PLAIN" and p.get("initial_response"), "AUTH PLAIN with an initial response")
ok &= has(lambda p: p.get("verb") == "VRFY" and p.get("argument") == "postmaster", "VRFY postmaster")
for verb in ("NOOP", "HELP", "RSET", "DATA", "QUIT"):
    ok &= has(lambda p, v=verb: p.get("verb") == v, verb)
sys.exit(0 if ok else 1)
PYEOF

if [[ $FAILS -ne 0 ]]; then echo "interop commands: $FAILS failure(s)"; exit 1; fi
echo "interop commands: all passed"
