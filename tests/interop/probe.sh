#!/usr/bin/env bash
# Interop test: `sansmtp probe` against real servers: aiosmtpd with STARTTLS
# (capabilities before and after, the certificate and whether it verifies)
# and a private Postfix that refuses a pod-style EHLO name only at RCPT
# (smtpd_delay_reject): the probe must get that far, say the refusal is
# about the name, and show ehlo-check's findings beside it.  (Postfix
# exempts the bare <Postmaster> from its restrictions, which is why the
# probe asks for postmaster@ the server's domain.)
#
#     bash tests/interop/probe.sh /path/to/sansmtp
#
# KEEP_WORK=1 keeps the work directory.  Needs: /usr/bin/python3 with
# python3-aiosmtpd, postfix, openssl; root (Postfix).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
source "$HERE/net_common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_aiosmtpd
need_command postfix postfix
need_command smtp-sink postfix
need_command openssl openssl
[[ $(id -u) -eq 0 ]] || die "the private Postfix instance needs root"
net_setup
make_cert "$work/cert.pem" "$work/key.pem"

# run_probe NAME EXIT ARGS...: sansmtp probe ARGS into $work/NAME.out.
run_probe() { local name=$1 want=$2; shift 2; run_sansmtp "$name" "$want" probe "$@"; }

start_server aiosmtpd $PY -I "$HERE/aiosmtpd_sink.py" "$work/aio" --tls "$work/cert.pem" "$work/key.pem"
run_probe aiosmtpd-tls 0 "localhost:$port" --ehlo mail.acme-corp.com --starttls --tls-ca "$work/cert.pem" --json
check aiosmtpd-tls 'd["greeting"]["code"] == 220 and d["ehlo"]["code"] == 250 and "STARTTLS" in d["capabilities"]'
check aiosmtpd-tls 'd["starttls"]["code"] == 220 and d["ehlo_after_starttls"]["code"] == 250 and "STARTTLS" not in d["capabilities_after_starttls"]'
check aiosmtpd-tls 'd["tls"]["subject"] == "CN=localhost" and d["tls"]["verified"] is True and d["tls"]["verify_result"] == "ok"'
check aiosmtpd-tls '[d[k]["code"] for k in ("mail", "rcpt", "rset", "quit")] == [250, 250, 250, 221] and d["name_accepted"] is True and d["ehlo_check"]["verdict"] == "pass" and d["error"] is None'
# No --tls-ca: the self-signed certificate is shown as not verified, and the probe goes on.
run_probe aiosmtpd-untrusted 1 "localhost:$port" --ehlo mail.acme-corp.com --starttls --json
check aiosmtpd-untrusted 'd["tls"]["verified"] is False and "self-signed" in d["tls"]["verify_result"] and d["rcpt"]["code"] == 250'
# Without --starttls, aiosmtpd (require_starttls) refuses MAIL: not about the name.
run_probe aiosmtpd-plain 1 "localhost:$port" --ehlo mail.acme-corp.com --json
check aiosmtpd-plain 'd["mail"]["code"] == 530 and d["diagnosis"]["kind"] == "tls-required" and d["name_accepted"] is True'
# A failing name goes out anyway (that is the point); the linter's verdict sits beside the server's.
run_probe aiosmtpd-literal 1 "localhost:$port" --ehlo '[10.42.0.17]' --starttls --tls-ca "$work/cert.pem" --json
check aiosmtpd-literal 'd["ehlo_name"] == "[10.42.0.17]" and d["name_accepted"] is True and d["ehlo_check"]["verdict"] == "fail" and any(f["code"] == "private-address" for f in d["ehlo_check"]["findings"])'
run_probe bad-name 64 "localhost:$port" --ehlo 'bad name'

# A server without EHLO: HELO instead (RFC 5321 4.1.4), which is not a refusal of the name.
sink sink-no-ehlo -f EHLO
run_probe sink-no-ehlo 0 "127.0.0.1:$port" --ehlo mail.acme-corp.com --json
check sink-no-ehlo 'd["ehlo"]["code"] == 500 and d["helo"]["code"] == 250 and d["helo_fallback"] is True and d["rcpt"]["code"] == 250 and d["name_accepted"] is True and d["diagnosis"] is None'

start_postfix
run_probe postfix-pod 2 "127.0.0.1:$postfix_port" --ehlo web-7d9f8b6c5-x2x4z --json
check postfix-pod 'd["ehlo"]["code"] == 250 and d["mail"]["code"] == 250 and d["rcpt_to"] == "postmaster@mx.postfix.interop.example" and d["rcpt"]["code"] == 504 and d["name_accepted"] is False'
check postfix-pod 'd["diagnosis"]["kind"] == "helo-rejected" and d["diagnosis"]["after"] == "RCPT TO" and "web-7d9f8b6c5-x2x4z" in d["diagnosis"]["explanation"]'
check postfix-pod 'd["ehlo_check"]["verdict"] == "fail" and any(f["code"] == "not-fqdn" for f in d["ehlo_check"]["findings"])'
run_probe postfix-pod-text 2 "127.0.0.1:$postfix_port" --ehlo web-7d9f8b6c5-x2x4z
grep -q '^server: REFUSED the name: .*web-7d9f8b6c5-x2x4z' "$work/postfix-pod-text.out" && grep -q 'not-fqdn' "$work/postfix-pod-text.out" &&
  pass "probe (text): the refusal and ehlo-check's not-fqdn side by side" || fail "probe (text): $(cat "$work/postfix-pod-text.out")"
# On a terminal: a progress line per step, then the verdicts side by side.
if command -v script >/dev/null; then
  timeout 60 script -qec "$SANSMTP probe 127.0.0.1:$postfix_port --ehlo web-7d9f8b6c5-x2x4z --starttls" /dev/null \
    >"$work/terminal.out" 2>&1
  for step in "connected to 127.0.0.1 port $postfix_port" "greeting: 220 mx.postfix.interop.example ESMTP Postfix" \
      "EHLO web-7d9f8b6c5-x2x4z: 250" "STARTTLS: 220" "certificate subject CN=localhost" \
      "(TLS) EHLO web-7d9f8b6c5-x2x4z: 250" "MAIL FROM:<>: 250" "trying RCPT TO:<postmaster@mx.postfix.interop.example>" \
      "RCPT TO: 504 5.5.2" "helo-rejected:" "QUIT: 221" "fail not-fqdn" "server: REFUSED the name"; do
    grep -qF "$step" "$work/terminal.out" && pass "probe on a terminal shows: $step" || fail "probe on a terminal: no '$step'"
  done
fi
# --names: which of these names does Postfix take? One session each; the pod name is refused at RCPT.
run_probe postfix-names 1 "127.0.0.1:$postfix_port" --names mail.acme-corp.com,web-7d9f8b6c5-x2x4z --json
check postfix-names '[r["name_accepted"] for r in d["names"]] == [True, False] and [r["stage_reached"] for r in d["names"]] == ["rcpt", "mail"]'
check postfix-names 'd["names"][1]["refusal"]["after"] == "RCPT TO" and d["names"][1]["refusal"]["code"] == 504 and d["names"][1]["diagnosis"]["kind"] == "helo-rejected"'
check postfix-names 'all(r["client_ip_seen"] is None for r in d["names"])'  # Postfix does not echo the address
run_probe postfix-names-none 2 "127.0.0.1:$postfix_port" --names web-7d9f8b6c5-x2x4z,localhost --json
check postfix-names-none '[r["name_accepted"] for r in d["names"]] == [False, False]'
# Through a PROXY v2 header to the smtpd that expects one: Postfix sees the claimed client.
run_probe postfix-proxy 0 "127.0.0.1:$postfix_proxy_port" --ehlo mail.acme-corp.com --proxy-protocol v2 \
  --proxy-source 203.0.113.9:4242 --json
check postfix-proxy 'd["rcpt"]["code"] == 250 and d["name_accepted"] is True and d["error"] is None'
grep -q "connect from unknown\[203.0.113.9\]" "$work/postfix/maillog" && pass "probe behind PROXY: postfix saw 203.0.113.9" ||
  fail "probe behind PROXY: postfix did not log 203.0.113.9"
run_probe postfix-fqdn 0 "localhost:$postfix_port" --ehlo mail.acme-corp.com --starttls --tls-ca "$work/cert.pem" --json
check postfix-fqdn 'd["rcpt"]["code"] == 250 and d["name_accepted"] is True and d["tls"]["verified"] is True and "CHUNKING" in d["capabilities_after_starttls"] and "STARTTLS" in d["capabilities"]'

net_finish "interop probe"
