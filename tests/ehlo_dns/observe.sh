#!/usr/bin/env bash
# tests/ehlo_dns/observe.sh: what real SMTP receivers do with EHLO names,
# each resolving through a real authoritative DNS server, all on loopback.
#
# In one private network, mount and UTS namespace (unshare) it starts
#   - Knot DNS on 127.0.0.1:53, authoritative for ., helo.example.net. and
#     127.in-addr.arpa. (tests/ehlo_dns/zones/), and for two zones it fails
#     to load on purpose (SERVFAIL); /etc/resolv.conf is bind-mounted to
#     name only it, /etc/hosts to a minimal one (localhost);
#   - Postfix (a private instance) with reject_invalid_helo_hostname,
#     reject_non_fqdn_helo_hostname and reject_unknown_helo_hostname;
#   - Exim 4 (Debian's exim4-daemon-light, unpacked, not installed) whose MAIL
#     ACL is `deny !verify = helo`, with host_lookup = *;
#   - Haraka (npm, tests/ehlo_dns/package-lock.json) with helo.checks in its
#     default configuration but for [skip] private_ip=false;
#   - optionally (RECEIVERS naming it) haraka-helo-checks-reject: the same
#     with every key of helo.checks' [reject] set to true;
# then for each case of cases.tsv (EHLO name, client address) prints the
# DNS facts as kdig sees them and runs swaks from that address against each
# receiver (--quit-after RCPT), printing one JSON line per case and receiver:
#   {"name", "client_ip", "receiver", "verdict": accept|refuse|defer,
#    "stage": connect|helo|mail|rcpt|none, "code", "reply", ...}
# and a final table.
#
# Environment:
#   PREDICT    a command run per case, inside the namespace, as
#              $PREDICT --client-ip IP --receiver LIST -- NAME
#              printing one JSON object with "receivers": [{"receiver",
#              "verdict", "stage", "reply"}...]; each prediction is compared
#              with the observation (PASS/FAIL lines), the script exits 1 on
#              any mismatch. E.g.
#              PREDICT="build/gcc/tools/sansmtp ehlo-check --resolve --dns-server 127.0.0.1:53 --json"
#   PROBE      the sansmtp CLI: then `sansmtp probe --resolve` also runs
#              against Exim from each case's client address; Exim echoes the
#              address it sees, which the probe must report (client_ip_seen)
#              and check the name against, and its exim-verify-helo
#              prediction must match what Exim did to its MAIL FROM
#   RECEIVERS  comma-separated, default postfix,exim-verify-helo,haraka-helo-checks;
#              haraka-helo-checks-reject may be added
#   CASES      another cases file (default tests/ehlo_dns/cases.tsv)
#   OBSERVE_JSON  also write the JSON lines to this file
#   KEEP_WORK  keep the work directory (logs of every server) and say where
#   EXIM_DEBUG Exim's debug selectors (e.g. +host_lookup+dns+receive+acl):
#              its debug output goes to exim/stdout.log in the work directory
#   SANSMTP_BENCH_BUILD  where the Exim tree is cached, shared with
#              scripts/bench --peers (default build/bench: build/bench/exim/tree)
#
# Needs root (namespaces, Postfix, Exim). Installs the Debian packages it
# needs (scripts/deps.sh), runs `npm ci` here when node_modules is missing,
# and downloads exim4-daemon-light with apt-get the first time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
die() { echo "ERROR: $*" >&2; exit 2; }

if [[ -z ${EHLO_DNS_INSIDE:-} ]]; then
  [[ $(id -u) -eq 0 ]] || die "observe.sh needs root (network namespace, Postfix, Exim)"
  . "$root/scripts/deps.sh"
  # Exim's libraries: exim4-daemon-light is unpacked, not installed, so its
  # dependencies are installed by name.
  ensure_packages knot knot-dnsutils swaks postfix iproute2 util-linux python3 \
    libidn12 libidn2-0 libgnutls30 libgnutls-dane0 libnsl2 libdb5.3 libpcre2-8-0 libcrypt1
  ensure_node
  exim_dir=${SANSMTP_BENCH_BUILD:-$root/build/bench}/exim
  if [[ ! -x $exim_dir/tree/usr/sbin/exim4 ]]; then
    rm -rf "$exim_dir" && mkdir -p "$exim_dir"
    if [[ -z ${SANSMTP_APT_UPDATED:-} ]] && ! apt-cache show exim4-daemon-light >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive apt-get update -q
    fi
    (cd "$exim_dir" && apt-get download -q exim4-daemon-light) &&
      dpkg-deb -x "$exim_dir"/exim4-daemon-light_*.deb "$exim_dir/tree" ||
      die "could not download and unpack exim4-daemon-light"
  fi
  if [[ ! -d $here/node_modules/haraka || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
    npm ci --prefix "$here" --omit=optional --no-audit --no-fund --loglevel=error
  fi
  export EXIM_TREE=$exim_dir/tree
  start=$(date +%s.%N)
  status=0
  EHLO_DNS_INSIDE=1 unshare --net --mount --uts --propagation private "$BASH" "$0" "$@" || status=$?
  $PY -c "import sys; print(f'observe.sh: {float(sys.argv[2]) - float(sys.argv[1]):.1f} s')" "$start" "$(date +%s.%N)"
  exit $status
fi

# ---- inside the namespaces -------------------------------------------------
RECEIVERS=${RECEIVERS:-postfix,exim-verify-helo,haraka-helo-checks}
CASES=${CASES:-$here/cases.tsv}
POSTFIX_PORT=2525 EXIM_PORT=2526 HARAKA_PORT=2527 HARAKA_REJECT_PORT=2528
RCPT=box@rcpt.ehlo-dns.test  # every receiver accepts it

work=$(mktemp -d /tmp/ehlo_dns.XXXXXX)
chmod 755 "$work"
pids=()        # children, stopped by PID
postfix_pid=   # Postfix's master (a daemon: its PID from its pid file)
cleanup() {
  set +e  # (wait reports 143 for a server stopped by SIGTERM)
  local p
  [[ -n $postfix_pid ]] && kill "$postfix_pid" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [[ -n $postfix_pid ]]; then
    for _ in $(seq 50); do kill -0 "$postfix_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ -n ${KEEP_WORK:-} ]]; then echo "work directory: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

ip link set lo up
hostname ehlo-dns-host  # no dot: the resolver takes no search domain from it
mount_over() { mount --bind "$1" "$2" || die "cannot bind-mount $1 over $2"; }
printf 'nameserver 127.0.0.1\n' >"$work/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$work/hosts"
# Exim's compiled-in user Debian-exim, as nobody/nogroup (bench/load_bench.py's EximSink).
nobody_uid=$(id -u nobody)
nogroup_gid=$(getent group nogroup | cut -d: -f3)
{ cat /etc/passwd; echo "Debian-exim:x:$nobody_uid:$nogroup_gid:Exim (ehlo_dns):/nonexistent:/usr/sbin/nologin"; } >"$work/passwd"
{ cat /etc/group; echo "Debian-exim:x:$nogroup_gid:"; } >"$work/group"
mount_over "$work/resolv.conf" /etc/resolv.conf
mount_over "$work/hosts" /etc/hosts
mount_over "$work/passwd" /etc/passwd
mount_over "$work/group" /etc/group

wait_port() {  # wait_port PORT [PID]: until something listens on 127.0.0.1:PORT (15 s)
  for _ in $(seq 150); do
    $PY -I -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null && return 0
    [[ -n ${2:-} ]] && ! kill -0 "$2" 2>/dev/null && return 1
    sleep 0.1
  done
  return 1
}

# ---- Knot ------------------------------------------------------------------
mkdir -p "$work/knot/run" "$work/knot/db"
cat >"$work/knot/knot.conf" <<EOF
server:
    listen: 127.0.0.1@53
    rundir: $work/knot/run
database:
    storage: $work/knot/db
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: $here/zones
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: .
    file: root.zone
  - domain: helo.example.net.
  - domain: 127.in-addr.arpa.
  # configured, but their file does not load: Knot answers SERVFAIL
  - domain: servfail.helo.example.net.
    file: broken.zone
  - domain: 9.0.0.127.in-addr.arpa.
    file: broken.zone
EOF
knotd -c "$work/knot/knot.conf" 2>"$work/knot/knot.log" &
pids+=($!)
for _ in $(seq 100); do
  kdig @127.0.0.1 +time=1 +retry=0 good.helo.example.net A 2>/dev/null | grep -q 'status: NOERROR' && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/knot/knot.log" >&2; die "knotd exited"; }
  sleep 0.1
done
kdig @127.0.0.1 servfail.helo.example.net A | grep -q 'status: SERVFAIL' || die "Knot does not answer SERVFAIL for servfail.helo.example.net"

# ---- Postfix ---------------------------------------------------------------
start_postfix() {
  local w=$work/postfix
  mkdir -p "$w/etc" "$w/spool" "$w/data" "$w/vmail"
  chown postfix "$w/data"
  chown nobody:nogroup "$w/vmail"
  cat >"$w/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $w/spool
data_directory = $w/data
maillog_file = $w/maillog
maillog_file_prefixes = $work
myhostname = mx.postfix.ehlo-dns.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = all
mynetworks = 127.0.0.0/8
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname, reject_unknown_helo_hostname
smtpd_delay_reject = yes
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = rcpt.ehlo-dns.test
virtual_mailbox_base = $w/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$nobody_uid
virtual_gid_maps = static:$nogroup_gid
EOF
  # Debian's master.cf with smtpd on our port and no chroot (tests/interop/net_common.sh).
  sed -e "s/^smtp      inet  n       -       y/127.0.0.1:$POSTFIX_PORT inet n - n/" \
    -e 's/^\([a-z]* *unix *[-n] *[-n] *\)y/\1n/' /etc/postfix/master.cf >"$w/etc/master.cf"
  postfix -c "$w/etc" start >"$w/start.log" 2>&1 || { cat "$w/start.log" "$w/maillog" >&2 2>/dev/null; die "postfix did not start"; }
  postfix_pid=$(tr -d ' ' <"$w/spool/pid/master.pid")
  wait_port "$POSTFIX_PORT" "$postfix_pid" || { cat "$w/maillog" >&2; die "postfix smtpd does not listen"; }
}

# ---- Exim ------------------------------------------------------------------
start_exim() {
  local w=$work/exim binary=$EXIM_TREE/usr/sbin/exim4
  mkdir -p "$w/spool" "$w/log"
  chown nobody:nogroup "$w/spool" "$w/log"
  cat >"$w/exim.conf" <<EOF
exim_path = $binary
keep_environment =
primary_hostname = mx.exim.ehlo-dns.test
spool_directory = $w/spool
log_file_path = $w/log/%slog
pid_file_path = $w/exim.pid
local_interfaces = <; 127.0.0.1
daemon_smtp_ports = $EXIM_PORT
deliver_drop_privilege = true
rfc1413_query_timeout = 0s
# Look up every client's host name (verify = helo compares the EHLO name with it)
host_lookup = *
acl_smtp_mail = check_mail
acl_smtp_rcpt = accept_rcpt

begin acl
check_mail:
  deny   !verify = helo
  accept
accept_rcpt:
  accept

begin routers
discard:
  driver = redirect
  data = :blackhole:
EOF
  local debug=()
  [[ -n ${EXIM_DEBUG:-} ]] && debug=("-d$EXIM_DEBUG")
  "$binary" -C "$w/exim.conf" -bdf "${debug[@]}" >"$w/stdout.log" 2>&1 &
  pids+=($!)
  wait_port "$EXIM_PORT" "${pids[-1]}" || { cat "$w/stdout.log" "$w"/log/* >&2 2>/dev/null; die "exim does not listen"; }
}

# ---- Haraka ----------------------------------------------------------------
# start_haraka NAME PORT [reject]: an instance in $work/NAME from haraka/,
# helo.checks' defaults but [skip] private_ip=false (and, with reject, every
# [reject] key true).
start_haraka() {
  local name=$1 port=$2 w=$work/$1 haraka=$here/node_modules/haraka/bin/haraka
  # haraka -i: the instance with Haraka's base configuration (connection.ini, ...)
  node "$haraka" -i "$w" >"$work/$name.install.log" 2>&1 || { cat "$work/$name.install.log" >&2; die "haraka -i failed"; }
  cp -r "$here/haraka/config" "$here/haraka/plugins" "$w/"
  # nodes=0: one process, no cluster workers
  printf '[main]\nlisten=127.0.0.1:%s\nnodes=0\n' "$port" >"$w/config/smtp.ini"
  {
    echo "; helo.checks' own config/helo.checks.ini (the defaults) is merged under this."
    echo "[skip]"
    echo "private_ip=false"
    if [[ ${3:-} == reject ]]; then
      echo "[reject]"
      for k in host_mismatch proto_mismatch rdns_match dynamic bare_ip literal_mismatch valid_hostname forward_dns big_company match_re; do
        echo "$k=true"
      done
    fi
  } >"$w/config/helo.checks.ini"
  node "$haraka" -c "$w" >"$w/haraka.log" 2>&1 &
  pids+=($!)
  wait_port "$port" "${pids[-1]}" || { cat "$w/haraka.log" >&2; die "haraka ($name) does not listen"; }
}

receivers_spec=()
IFS=, read -ra wanted <<<"$RECEIVERS"
for r in "${wanted[@]}"; do
  case $r in
    postfix) start_postfix; receivers_spec+=("postfix=$POSTFIX_PORT=$work/postfix/maillog") ;;
    exim-verify-helo) start_exim; receivers_spec+=("exim-verify-helo=$EXIM_PORT=$work/exim/log/mainlog") ;;
    haraka-helo-checks) start_haraka haraka "$HARAKA_PORT"; receivers_spec+=("haraka-helo-checks=$HARAKA_PORT=$work/haraka/haraka.log") ;;
    haraka-helo-checks-reject) start_haraka haraka-reject "$HARAKA_REJECT_PORT" reject
      receivers_spec+=("haraka-helo-checks-reject=$HARAKA_REJECT_PORT=$work/haraka-reject/haraka.log") ;;
    *) die "unknown receiver $r (postfix, exim-verify-helo, haraka-helo-checks, haraka-helo-checks-reject)" ;;
  esac
done

status=0
$PY -I "$here/matrix.py" --cases "$CASES" --rcpt "$RCPT" "${receivers_spec[@]}" || status=$?
exit $status
