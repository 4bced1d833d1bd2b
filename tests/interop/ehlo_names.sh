#!/usr/bin/env bash
# Interop test: do `sansmtp ehlo-check --self` predictions match what the real
# clients send?  Nothing is mocked: a real SMTP server (aiosmtpd) on
# 127.0.0.1 records the EHLO argument of a real Nodemailer and a real Python
# smtplib, each left to pick its own default name, and the captured names are
# compared with the "nodemailer" and "python-smtplib" lines of
# `sansmtp ehlo-check --self --json`.
#
#     bash tests/interop/ehlo_names.sh /path/to/sansmtp
#
# Needs: node + `npm ci --prefix tests/interop`, /usr/bin/python3 with Debian's
# python3-aiosmtpd.  Case 1 runs on the machine as it is.  When run as root and
# `unshare --uts --mount` is permitted, further cases run in private UTS and
# mount namespaces with another host name and a bind-mounted /etc/hosts (and an
# nsswitch.conf with "hosts: files", so they never touch DNS); the machine's
# real host name and files are not changed.  Otherwise those cases are skipped
# with a note.
#
# Exit 0: every check passed.  Non-zero: at least one FAIL line (or a missing
# prerequisite) was printed.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
SELF_TIMEOUT=60   # capture server exits on its own after this
STEP_TIMEOUT=20   # each client / CLI run
CASE_TIMEOUT=45   # each namespaced case, as a whole
DEADLINE=80       # start no namespaced case after this many seconds

die() { echo "ERROR: $*" >&2; exit 2; }

FAILS=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# ---------------------------------------------------------------- arguments
INNER=0
if [[ ${1:-} == --namespaced-case ]]; then
  # Internal: re-invoked by this script under `unshare --uts --mount`.
  INNER=1
  NS_HOSTNAME=${2:?}
  NS_HOSTS=${3:?}
  NS_NSSWITCH=${4:?}
  shift 4
fi
[[ $# -eq 1 ]] || die "usage: $0 /path/to/sansmtp"
SANSMTP=$1
[[ -x $SANSMTP ]] || die "sansmtp binary '$SANSMTP' is missing or not executable (build target sansmtp_cli)"
SANSMTP=$(cd "$(dirname "$SANSMTP")" && pwd)/$(basename "$SANSMTP")

# ------------------------------------------------------------ prerequisites
command -v node >/dev/null 2>&1 || die "node is not installed (needed to run Nodemailer)"
command -v timeout >/dev/null 2>&1 || die "coreutils 'timeout' is missing"
[[ -f $HERE/node_modules/nodemailer/package.json ]] ||
  die "Nodemailer is not installed in $HERE/node_modules: run 'npm ci --prefix tests/interop' (from the repository root) first"
[[ -x $PY ]] || die "$PY is missing (the test uses Debian's python3 with python3-aiosmtpd)"
"$PY" -I -c 'import aiosmtpd' 2>/dev/null ||
  die "aiosmtpd is not importable by $PY: apt-get install -y python3-aiosmtpd"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sansmtp-interop.XXXXXX") || die "mktemp failed"
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# json_get FILE PROGRAM: run a Python expression over the JSON lines of FILE
# (bound to `rows`), print its result JSON-encoded (strings keep quotes, so
# comparisons are exact and null stays distinguishable from "null").
json_get() {
  "$PY" -I -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
def first(pred):
    return next((r for r in rows if pred(r)), None)
try:
    v = eval(sys.argv[2])
except Exception:
    v = None
print(json.dumps(v))' "$1" "$2"
}
json_decode() { "$PY" -I -c 'import json,sys; sys.stdout.write(json.loads(sys.argv[1]))' "$1"; }

NODEMAILER_FROM=nodemailer@interop.sansmtp.invalid
SMTPLIB_FROM=smtplib@interop.sansmtp.invalid

# run_case LABEL [DETAIL]: server, both clients, CLI, comparisons.
run_case() {
  local label=$1 cap=$TMP/capture.jsonl port= rc
  rm -f "$cap" "$TMP/port" "$TMP/server.err"
  echo "== case: $label (uname -n: $(uname -n))${2:+; $2}"

  "$PY" -I "$HERE/ehlo_capture_server.py" --out "$cap" --timeout "$SELF_TIMEOUT" \
    >"$TMP/port" 2>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    port=$(head -n1 "$TMP/port" 2>/dev/null)
    [[ -n $port ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ ! $port =~ ^[0-9]+$ ]]; then
    fail "[$label] capture server did not start: $(cat "$TMP/server.err")"
    return
  fi

  if timeout "$STEP_TIMEOUT" node "$HERE/send_nodemailer.mjs" "$port" "$NODEMAILER_FROM" >"$TMP/node.out" 2>&1; then
    pass "[$label] nodemailer sent a message to 127.0.0.1:$port"
  else
    rc=$?
    fail "[$label] nodemailer could not send (exit $rc): $(cat "$TMP/node.out")"
  fi

  if timeout "$STEP_TIMEOUT" "$PY" -I -c '
import smtplib, sys
port, sender = int(sys.argv[1]), sys.argv[2]
# No local_hostname: smtplib computes its own default (socket.getfqdn() ...).
with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
    print("smtplib local_hostname=%r" % s.local_hostname)
    s.sendmail(sender, ["sink@interop.sansmtp.invalid"],
               b"Subject: sansmtp interop: smtplib default EHLO name\r\n\r\nSent by tests/interop/ehlo_names.sh.\r\n")
' "$port" "$SMTPLIB_FROM" >"$TMP/py.out" 2>&1; then
    pass "[$label] python smtplib sent a message to 127.0.0.1:$port"
  else
    rc=$?
    fail "[$label] python smtplib could not send (exit $rc): $(cat "$TMP/py.out")"
  fi

  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=

  timeout "$STEP_TIMEOUT" "$SANSMTP" ehlo-check --self --json >"$TMP/self.jsonl" 2>"$TMP/self.err"
  rc=$?
  if [[ $rc -gt 2 ]]; then
    fail "[$label] '$SANSMTP ehlo-check --self --json' exited $rc: $(cat "$TMP/self.err")"
    return
  fi

  local src from
  for src in nodemailer python-smtplib; do
    if [[ $src == nodemailer ]]; then from=$NODEMAILER_FROM; else from=$SMTPLIB_FROM; fi
    local sent predicted greetings verdict_self verdict_name name
    # The first greeting of the connection that delivered this client's message.
    sent=$(json_get "$cap" "first(lambda r: r['event'] == 'message' and r['mail_from'] == '$from')['greetings'][0]['arg']")
    greetings=$(json_get "$cap" "[g['verb'] + ' ' + g['arg'] for g in first(lambda r: r['event'] == 'message' and r['mail_from'] == '$from')['greetings']]")
    predicted=$(json_get "$TMP/self.jsonl" "first(lambda r: r.get('source') == '$src')['name']")
    if [[ $sent == null ]]; then
      fail "[$label] no EHLO/HELO from $src was captured (capture: $(cat "$cap" 2>/dev/null))"
      continue
    fi
    if [[ $sent == "$predicted" ]]; then
      pass "[$label] $src sent EHLO $sent; sansmtp --self predicted $predicted"
    else
      fail "[$label] $src really sent $sent (greetings: $greetings) but 'sansmtp ehlo-check --self' predicted $predicted for source \"$src\"; $(describe_host)"
    fi

    # The --self verdict must be the one the CLI gives that name on its own.
    name=$(json_decode "$sent")
    verdict_self=$(json_get "$TMP/self.jsonl" "first(lambda r: r.get('source') == '$src')['verdict']")
    timeout "$STEP_TIMEOUT" "$SANSMTP" ehlo-check --json -- "$name" >"$TMP/name.jsonl" 2>"$TMP/name.err"
    rc=$?
    if [[ $rc -gt 2 ]]; then
      fail "[$label] '$SANSMTP ehlo-check --json -- $sent' exited $rc: $(cat "$TMP/name.err")"
      continue
    fi
    verdict_name=$(json_get "$TMP/name.jsonl" "rows[0]['verdict']")
    local codes_self codes_name
    codes_self=$(json_get "$TMP/self.jsonl" "[f['code'] for f in first(lambda r: r.get('source') == '$src')['findings']]")
    codes_name=$(json_get "$TMP/name.jsonl" "[f['code'] for f in rows[0]['findings']]")
    if [[ $verdict_name != null && $verdict_name == "$verdict_self" && $codes_name == "$codes_self" ]]; then
      pass "[$label] ehlo-check --json $sent: verdict $verdict_name $codes_name, same as the --self \"$src\" line"
    else
      fail "[$label] ehlo-check --json $sent gives verdict $verdict_name $codes_name but the --self \"$src\" line says $verdict_self $codes_self"
    fi
  done
}

# What the real runtimes see, for failure messages.
describe_host() {
  local py node_name
  py=$("$PY" -I -c 'import socket
h = socket.gethostname()
try: a = socket.gethostbyaddr(h)
except OSError as e: a = "error: %s" % e
print("gethostname()=%r gethostbyaddr(gethostname())=%r getfqdn()=%r" % (h, a, socket.getfqdn()))' 2>&1)
  node_name=$(node -e 'process.stdout.write(JSON.stringify(require("os").hostname()))' 2>&1)
  echo "host facts: python $py; node os.hostname()=$node_name"
}

# ------------------------------------------------------ namespaced case body
if [[ $INNER == 1 ]]; then
  if command -v hostname >/dev/null 2>&1; then
    hostname "$NS_HOSTNAME" 2>/dev/null
  else
    printf '%s' "$NS_HOSTNAME" >/proc/sys/kernel/hostname 2>/dev/null
  fi
  if [[ $(uname -n) != "$NS_HOSTNAME" ]]; then
    echo "SKIP: cannot set the host name inside the UTS namespace"
    exit 77
  fi
  if ! mount --bind "$NS_HOSTS" /etc/hosts 2>/dev/null ||
     ! mount --bind "$NS_NSSWITCH" /etc/nsswitch.conf 2>/dev/null; then
    echo "SKIP: cannot bind-mount /etc/hosts and /etc/nsswitch.conf inside the mount namespace"
    exit 77
  fi
  run_case "host name $NS_HOSTNAME" \
    "private UTS+mount namespaces; /etc/hosts: $(tr '\n' ';' <"$NS_HOSTS" | sed 's/;$//'); nsswitch hosts: files"
  [[ $FAILS -eq 0 ]]
  exit
fi

# ------------------------------------------------------------------- cases
run_case "this machine"

# name | /etc/hosts lines (\n-separated) | what it exercises
NS_CASES=(
  "mx1.example.net|127.0.0.1 localhost|FQDN host name, not resolvable: Nodemailer uses it, smtplib's getfqdn() falls back to it"
  "mx1|127.0.0.1 localhost\n127.0.1.1 mx1.example.net mx1|Debian-style 127.0.1.1 line: smtplib finds the FQDN, Nodemailer sends [127.0.0.1]"
  "mx1|127.0.1.1 mx1 mx1.example.net|FQDN only as an alias: getfqdn() takes the first dotted alias"
  "10.1.2.3|127.0.0.1 localhost|pod-style dotted-quad host name: Nodemailer brackets it, smtplib sends it bare"
  "box|127.0.0.1 localhost\n192.0.2.7 box|single label resolving to an address: smtplib sends [192.0.2.7]"
  "box|127.0.0.1 localhost|single label, unresolvable: both fall back to [127.0.0.1]"
  "v6box|2001:db8::5 v6box.example.net v6box|host known only by an IPv6 address: reverse lookup through AF_INET6"
)

ns_ok=0
if [[ $(id -u) != 0 ]]; then
  echo "NOTE: not root: skipping the ${#NS_CASES[@]} cases with other host names (they need unshare --uts --mount)"
elif ! command -v unshare >/dev/null 2>&1; then
  echo "NOTE: unshare is not installed: skipping the ${#NS_CASES[@]} cases with other host names"
elif ! unshare --uts --mount --propagation private true 2>/dev/null; then
  echo "NOTE: unshare --uts --mount is not permitted here: skipping the ${#NS_CASES[@]} cases with other host names"
elif [[ -S /run/nscd/socket || -S /var/run/nscd/socket ]]; then
  echo "NOTE: nscd is running (it would answer from the real /etc/hosts): skipping the ${#NS_CASES[@]} cases with other host names"
else
  ns_ok=1
fi

if [[ $ns_ok == 1 ]]; then
  if grep -q '^[[:space:]]*hosts:' /etc/nsswitch.conf 2>/dev/null; then
    sed -E 's/^[[:space:]]*hosts:.*/hosts: files/' /etc/nsswitch.conf >"$TMP/nsswitch.conf"
  else
    { cat /etc/nsswitch.conf 2>/dev/null; echo 'hosts: files'; } >"$TMP/nsswitch.conf"
  fi
  i=0
  for c in "${NS_CASES[@]}"; do
    i=$((i + 1))
    IFS='|' read -r ns_name ns_hosts ns_what <<<"$c"
    if [[ $SECONDS -ge $DEADLINE ]]; then
      echo "NOTE: ${SECONDS}s elapsed: skipping the case with host name $ns_name ($ns_what)"
      continue
    fi
    printf '%b\n' "$ns_hosts" >"$TMP/hosts.$i"
    echo "-- $ns_what"
    timeout "$CASE_TIMEOUT" unshare --uts --mount --propagation private -- \
      bash "${BASH_SOURCE[0]}" --namespaced-case "$ns_name" "$TMP/hosts.$i" "$TMP/nsswitch.conf" "$SANSMTP"
    rc=$?
    if [[ $rc == 77 ]]; then
      echo "NOTE: namespaced cases are not possible here; skipping the rest"
      break
    elif [[ $rc != 0 ]]; then
      fail "[host name $ns_name] namespaced case failed (exit $rc)"
    fi
  done
fi

if [[ $FAILS -eq 0 ]]; then
  echo "OK: all interop EHLO-name checks passed (${SECONDS}s)"
  exit 0
fi
echo "FAILED: $FAILS check(s) failed (${SECONDS}s)"
exit 1
