#!/usr/bin/env bash
# Interop test: what real SMTP servers send must read back exactly under the
# strict reply grammar (`sansmtp parse reply`), their EHLO replies must give
# the capabilities they advertise (`sansmtp parse ehlo`), and their refusals
# must be diagnosed for what they are.  Nothing is mocked: aiosmtpd (Python),
# smtp-server (Node.js), Postfix's smtp-sink and a private Postfix instance,
# all on 127.0.0.1, answer a raw client (record_replies.py) that keeps every
# octet they sent.
#
# The Postfix instance is the origin story live: a client in a pod says
# `EHLO web-7d9f8b6c5-x2x4z`, Postfix (reject_non_fqdn_helo_hostname) accepts
# EHLO and MAIL and refuses at RCPT; the diagnosis must name the EHLO name, and
# `sansmtp ehlo-check` must have predicted it.
#
#     bash tests/interop/replies.sh /path/to/sansmtp
#
# KEEP_WORK=1 keeps the work directory (the raw captures, their parses, the
# Postfix log) and prints where it is.
#
# Needs: /usr/bin/python3 with python3-aiosmtpd, node + `npm ci --prefix
# tests/interop` (smtp-server), postfix (smtp-sink and postfix).  Run as root
# (Postfix).  Exit 0: all checks passed.
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

# record NAME PORT COMMAND...: the raw replies to $work/NAME.raw, the EHLO
# reply alone to $work/NAME.ehlo, both parsed to .json.
record() {
  local name=$1 port=$2; shift 2
  echo "== $name"
  if ! timeout 30 $PY -I "$HERE/record_replies.py" "$port" "$work/$name.raw" --ehlo-out "$work/$name.ehlo" -- "$@" \
    | sed 's/^/    /'; then
    fail "$name: a command got no reply"
  fi
  "$SANSMTP" parse reply --json <"$work/$name.raw" >"$work/$name.json" || fail "$name: reply stream refused: $(tail -1 "$work/$name.json")"
  # Exit 0: a clean 2xx EHLO reply; 1: with findings; 2: refused.
  "$SANSMTP" parse ehlo --json <"$work/$name.ehlo" >"$work/$name.ehlo.json"
  local status=$?
  echo "$status" >"$work/$name.ehlo.status"
  [[ $status -le 1 ]] || fail "$name: EHLO reply refused (exit $status)"
}

# --- aiosmtpd: the Python reference server, default handler.
port=$(free_port)
$PY -I -m aiosmtpd -n -l "127.0.0.1:$port" 2>"$work/aiosmtpd.log" &
pids+=($!)
wait_port "$port" || die "aiosmtpd did not start"
record aiosmtpd "$port" "EHLO client.interop.example" "RCPT TO:<a@interop.example>" \
  "MAIL FROM:<s@interop.example>" "RCPT TO:<a@interop.example>" "VRFY someone" "NOOP" "RSET" "HELP" "BOGUS" "QUIT"

# --- smtp-server: Nodemailer's server; AUTH needs TLS first, MAIL needs AUTH.
coproc NODE { exec node "$HERE/reply_smtp_server.mjs" 2>"$work/node.log"; }
pids+=($NODE_PID)
read -r -t 15 node_port <&"${NODE[0]}" || die "smtp-server did not start"
record smtp-server "$node_port" "EHLO client.interop.example" "MAIL FROM:<s@interop.example>" \
  "AUTH PLAIN AHVzZXIAc2VjcmV0" "QUIT"

# --- smtp-sink: Postfix's test server, refusing VRFY softly and RCPT hard.
port=$(free_port)
smtp-sink -u nobody -h mx.sink.example -r vrfy -f rcpt "127.0.0.1:$port" 5 2>"$work/sink.log" &
pids+=($!)
wait_port "$port" || die "smtp-sink did not start"
record smtp-sink "$port" "EHLO client.interop.example" "MAIL FROM:<s@interop.example> BODY=8BITMIME" \
  "RCPT TO:<a@interop.example>" "VRFY a" "RSET" "QUIT"

# --- Postfix: a private instance with the common HELO restrictions (net_common.sh).
start_postfix
port=$postfix_port
record postfix-pod "$port" "EHLO web-7d9f8b6c5-x2x4z" "MAIL FROM:<app@interop.example>" \
  "RCPT TO:<user@mx.postfix.interop.example>" "QUIT"
record postfix-fqdn "$port" "EHLO client.interop.example" "MAIL FROM:<app@interop.example>" \
  "RCPT TO:<nobody-here@mx.postfix.interop.example>" "RCPT TO:<root@mx.postfix.interop.example>" "QUIT"
"$SANSMTP" parse reply --after rcpt <"$work/postfix-pod.raw" >"$work/postfix-pod.txt"
"$SANSMTP" parse reply --after rcpt <"$work/postfix-fqdn.raw" >"$work/postfix-fqdn.txt"
"$SANSMTP" parse reply --after mail <"$work/smtp-server.raw" >"$work/smtp-server.mail.txt"
"$SANSMTP" parse reply --after auth <"$work/smtp-server.raw" >"$work/smtp-server.auth.txt"
"$SANSMTP" ehlo-check --json web-7d9f8b6c5-x2x4z >"$work/pod.check.json"
"$SANSMTP" ehlo-check --json client.interop.example >"$work/fqdn.check.json"

$PY -I - "$work" <<'PYEOF' || FAILS=$((FAILS + 1))
import json, os, sys
work = sys.argv[1]
def replies(name):
    return [json.loads(l) for l in open(os.path.join(work, name + ".json"), encoding="utf-8")]
def ehlo(name):
    return json.load(open(os.path.join(work, name + ".ehlo.json"), encoding="utf-8"))
def status(name):
    return int(open(os.path.join(work, name + ".ehlo.status")).read())
def text(name):
    return open(os.path.join(work, name), encoding="utf-8").read()
ok = True
def check(cond, what):
    global ok
    print(("PASS: " if cond else "FAIL: ") + what)
    ok &= bool(cond)

# aiosmtpd: codes in order, no ESC (it sends none), EHLO domain = greeting domain.
r = replies("aiosmtpd")
check([x["code"] for x in r] == [220, 250, 503, 250, 250, 252, 250, 250, 250, 500, 221],
      "aiosmtpd: every reply read, in order: %s" % [x["code"] for x in r])
e = ehlo("aiosmtpd")
check(e["ok"] and e["domain"] == r[0]["lines"][0].split()[0], "aiosmtpd: EHLO domain is the greeting's")
check(e["8bitmime"] and "HELP" in e["keywords"] and not e["pipelining"], "aiosmtpd: 8BITMIME and HELP, no PIPELINING")

# smtp-server: a multiline EHLO with parameters, then its refusals.
r = replies("smtp-server")
check([x["code"] for x in r] == [220, 250, 530, 538, 221], "smtp-server: replies %s" % [x["code"] for x in r])
e = ehlo("smtp-server")
check(e["domain"] == "mx.interop.example" and e["size"] == 1048576 and e["auth"] == ["PLAIN", "LOGIN"]
      and e["pipelining"] and e["starttls"] and e["smtputf8"] and e["8bitmime"] and not e["findings"],
      "smtp-server: SIZE 1048576, AUTH PLAIN LOGIN, PIPELINING, STARTTLS, SMTPUTF8, 8BITMIME")
check("auth-required" in text("smtp-server.mail.txt"), "smtp-server: 530 to MAIL diagnosed auth-required")
check("tls-required" in text("smtp-server.auth.txt"), "smtp-server: 538 to AUTH diagnosed tls-required")

# smtp-sink: ESCs on every reply but the greeting and QUIT; the soft and hard
# refusals; its EHLO ends with "250 " (no keyword), a finding, nothing lost.
r = replies("smtp-sink")
check([x["code"] for x in r] == [220, 250, 250, 500, 450, 250, 221], "smtp-sink: replies %s" % [x["code"] for x in r])
check([x["enhanced"] for x in r] == [None, None, "2.1.0", "5.3.0", "4.3.0", "2.1.0", None],
      "smtp-sink: enhanced status codes %s" % [x["enhanced"] for x in r])
e = ehlo("smtp-sink")
check(e["dsn"] and e["enhancedstatuscodes"] and e["8bitmime"] and e["auth"] == ["PLAIN", "LOGIN"]
      and e["keywords"].get("XCLIENT") == ["NAME", "HELO"] and not e["pipelining"],
      "smtp-sink: DSN, ENHANCEDSTATUSCODES, 8BITMIME, AUTH, XCLIENT; no PIPELINING (-r/-f turn it off)")
check([f["problem"] for f in e["findings"]] == ["bad-keyword"] and status("smtp-sink") == 1,
      "smtp-sink: its empty last EHLO line is a finding (exit 1)")
check(all(status(n) == 0 for n in ("aiosmtpd", "smtp-server", "postfix-pod")), "clean EHLO replies exit 0")

# Postfix: the pod name is refused at RCPT, the FQDN is not.
r = replies("postfix-pod")
check([x["code"] for x in r] == [220, 250, 250, 504, 221], "postfix, pod name: replies %s" % [x["code"] for x in r])
check(r[3]["enhanced"] == "5.5.2" and "Helo command rejected" in r[3]["lines"][0], "postfix: 504 5.5.2 Helo command rejected")
check("helo-rejected" in text("postfix-pod.txt") and "RCPT" in text("postfix-pod.txt"),
      "postfix: the RCPT refusal is diagnosed as about the EHLO name")
e = ehlo("postfix-pod")
check(e["size"] == 10240000 and e["pipelining"] and e["chunking"] and e["dsn"] and e["smtputf8"]
      and e["enhancedstatuscodes"] and "ETRN" in e["keywords"] and "VRFY" in e["keywords"] and not e["findings"],
      "postfix: SIZE 10240000, PIPELINING, CHUNKING, DSN, SMTPUTF8, ENHANCEDSTATUSCODES, ETRN, VRFY")
r = replies("postfix-fqdn")
check([x["code"] for x in r] == [220, 250, 250, 550, 250, 221], "postfix, FQDN: replies %s" % [x["code"] for x in r])
check(r[3]["enhanced"] == "5.1.1" and "mailbox-unknown" in text("postfix-fqdn.txt") and "helo-rejected" not in text("postfix-fqdn.txt"),
      "postfix: an unknown user is 550 5.1.1, diagnosed mailbox-unknown, and the FQDN passes")
pod = json.load(open(os.path.join(work, "pod.check.json")))
fqdn = json.load(open(os.path.join(work, "fqdn.check.json")))
check(pod["verdict"] == "fail" and any(f["code"] == "not-fqdn" for f in pod["findings"]),
      "ehlo-check predicted Postfix's refusal (not-fqdn)")
check(not any(f["code"] == "not-fqdn" for f in fqdn["findings"]), "ehlo-check has no not-fqdn for the accepted FQDN")
sys.exit(0 if ok else 1)
PYEOF

if [[ $FAILS -ne 0 ]]; then echo "interop replies: $FAILS failure(s)"; exit 1; fi
echo "interop replies: all passed"
