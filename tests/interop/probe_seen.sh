#!/usr/bin/env bash
# Interop test: the address a server sees. The issue's seed: a client in a
# pod sends `EHLO [10.42.0.17]`, while the server sees it connect from
# another address (here 203.0.113.5: NAT). `sansmtp serve --listen` echoes
# the address it sees in its EHLO reply, as Exim, Sendmail and OpenSMTPD
# do; `sansmtp probe` must read it (client_ip_seen) and report the literal
# mismatch against it, for one name and for a --names matrix.
#
# Runs in a private network namespace (unshare -n) whose loopback also
# holds 203.0.113.5, so `probe --source 203.0.113.5` really connects from
# it, over real sockets, to the server on 127.0.0.1.
#
#     bash tests/interop/probe_seen.sh /path/to/sansmtp
#
# KEEP_WORK=1 keeps the work directory.  Needs: root (unshare -n), iproute2.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_command ip iproute2
need_command unshare util-linux
if [[ -z ${SANSMTP_IN_NETNS:-} ]]; then
  [[ $(id -u) -eq 0 ]] || die "a private network namespace needs root"
  SANSMTP_IN_NETNS=1 exec unshare --net bash "$0" "$@"
fi
source "$HERE/net_common.sh"
source "$HERE/serve_tcp_lib.sh"
ip link set lo up || die "cannot bring lo up in the namespace"
ip addr add 203.0.113.5/32 dev lo || die "cannot add 203.0.113.5 to lo"
net_setup
trap 'stop_all_serves; net_cleanup' EXIT

start_serve seen --sink
run_sansmtp seed 1 probe "127.0.0.1:$PORT" --source 203.0.113.5 --ehlo '[10.42.0.17]' --json
check seed 'd["client_ip_seen"] == "203.0.113.5" and d["ehlo"]["lines"][0] == "mx.interop.example Hello [10.42.0.17] [203.0.113.5]"'
check seed 'd["ehlo_check"]["client_ip"] == "203.0.113.5" and any(f["code"] == "literal-mismatch" and f["suggestion"] == "[203.0.113.5]" and "203.0.113.5" in f["message"] for f in d["ehlo_check"]["findings"])'
# serve accepts every name: the name is accepted (exit 1: with findings), the linter fails it.
check seed 'd["name_accepted"] is True and d["stage_reached"] == "rcpt" and d["ehlo_check"]["verdict"] == "fail"'
run_sansmtp seed-text 1 probe "127.0.0.1:$PORT" --source 203.0.113.5 --ehlo '[10.42.0.17]'
grep -q '^the server sees this client as 203.0.113.5$' "$work/seed-text.out" && grep -q 'literal-mismatch: \[10.42.0.17\] is not the address the server sees' "$work/seed-text.out" &&
  pass "probe (text): the address seen and the literal mismatch" || fail "probe (text): $(cat "$work/seed-text.out")"
# The literal that matches what the server sees: no mismatch.
run_sansmtp seed-match 1 probe "127.0.0.1:$PORT" --source 203.0.113.5 --ehlo '[203.0.113.5]' --json
check seed-match 'd["client_ip_seen"] == "203.0.113.5" and not any(f["code"] == "literal-mismatch" for f in d["ehlo_check"]["findings"])'
# --client-ip overrides what the server echoed.
run_sansmtp seed-override 1 probe "127.0.0.1:$PORT" --source 203.0.113.5 --ehlo '[203.0.113.5]' --client-ip 198.51.100.9 --json
check seed-override 'd["client_ip_seen"] == "203.0.113.5" and d["ehlo_check"]["client_ip"] == "198.51.100.9" and any(f["code"] == "literal-mismatch" for f in d["ehlo_check"]["findings"])'
# From 127.0.0.1 the server sees 127.0.0.1.
run_sansmtp seed-loopback 1 probe "127.0.0.1:$PORT" --ehlo '[10.42.0.17]' --json
check seed-loopback 'd["client_ip_seen"] == "127.0.0.1"'

# --names: one session per candidate, the matrix; serve takes all three.
run_sansmtp names 0 probe "127.0.0.1:$PORT" --source 203.0.113.5 --rcpt box@interop.example \
  --names '[10.42.0.17],[203.0.113.5],mail.acme-corp.com' --json
check names '[r["ehlo_name"] for r in d["names"]] == ["[10.42.0.17]", "[203.0.113.5]", "mail.acme-corp.com"]'
check names 'all(r["stage_reached"] == "rcpt" and r["rcpt_to"] == "box@interop.example" and r["client_ip_seen"] == "203.0.113.5" for r in d["names"])'
check names '[any(f["code"] == "literal-mismatch" for f in r["ehlo_check"]["findings"]) for r in d["names"]] == [True, False, False]'
check names '"mail" in d["names"][0] and "data" not in d["names"][0]'
run_sansmtp names-text 0 probe "127.0.0.1:$PORT" --source 203.0.113.5 --names '[10.42.0.17],mail.acme-corp.com'
grep -Eq '^\[10\.42\.0\.17\] +rcpt +yes .*literal-mismatch' "$work/names-text.out" &&
  grep -q '^the server sees this client as 203.0.113.5$' "$work/names-text.out" &&
  pass "probe --names (text): the matrix row and the address seen" || fail "probe --names (text): $(cat "$work/names-text.out")"
# Usage errors: a bad --source, --ehlo with --names, a bad name in the list.
run_sansmtp bad-source 2 probe "127.0.0.1:$PORT" --source 192.0.2.77 --ehlo mail.acme-corp.com --json
check bad-source 'd["error"]["step"] == "connect" and "192.0.2.77" in d["error"]["message"]'
run_sansmtp both 64 probe "127.0.0.1:$PORT" --ehlo a.example --names b.example
run_sansmtp bad-name 64 probe "127.0.0.1:$PORT" --names 'good.example,bad name'
stop_serve || fail "serve did not stop cleanly"
net_finish "interop probe_seen"
