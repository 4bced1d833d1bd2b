# Sourced by the interop scripts that run sansmtp's network tools (send.sh,
# probe.sh) against real servers: a work directory, servers on free
# 127.0.0.1 ports stopped by PID on exit, a private Postfix instance, and
# the checks.  Expects common.sh sourced and SANSMTP set.

# net_setup: $work, the PID list and the trap that stops everything.
net_setup() {
  work=$(mktemp -d)
  chmod 755 "$work"
  [[ -n ${KEEP_WORK:-} ]] && echo "work directory: $work"
  pids=()
  postfix_conf=
  FAILS=0
  trap net_cleanup EXIT
}
net_cleanup() {
  [[ -n $postfix_conf ]] && postfix -c "$postfix_conf" stop >/dev/null 2>&1
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$work"
}
net_finish() {  # net_finish LABEL: the summary and the exit status
  if [[ $FAILS -ne 0 ]]; then echo "$1: $FAILS failure(s)"; exit 1; fi
  echo "$1: all passed"
  exit 0
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

free_port() { $PY -I -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_port PORT: until something listens there (10 s).
wait_port() {
  for _ in $(seq 100); do
    $PY -I -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2).close()" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start_server NAME COMMAND...: a server that prints its port on its first
# line of output; sets $port.
start_server() {
  local name=$1; shift
  "$@" >"$work/$name.port" 2>"$work/$name.log" &
  pids+=($!)
  port=
  for _ in $(seq 150); do
    port=$(head -1 "$work/$name.port" 2>/dev/null)
    [[ -n $port ]] && wait_port "$port" && return 0
    sleep 0.1
  done
  cat "$work/$name.log" >&2
  die "$name did not start"
}

# sink NAME OPTIONS...: Postfix's smtp-sink with those options on a free port ($port).
sink() {
  local name=$1; shift
  port=$(free_port)
  smtp-sink -u nobody -h mx.sink.interop.example "$@" "127.0.0.1:$port" 5 2>"$work/$name.sink.log" &
  pids+=($!)
  wait_port "$port" || die "smtp-sink did not start"
}
# make_cert CERT KEY: a self-signed certificate for localhost.
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$2" -out "$1" >/dev/null 2>&1 || die "openssl could not make a certificate"
  chmod 644 "$1" "$2"
}

# sha_norm FILE: sha256 with every line end (CRLF, LF, lone CR) made CRLF,
# as sansmtp send puts the message on the wire.
sha_norm() {
  $PY -I -c 'import hashlib, re, sys; print(hashlib.sha256(re.sub(rb"\r\n|\r|\n", b"\r\n", open(sys.argv[1], "rb").read())).hexdigest())' "$1"
}
# same_message LABEL FILE SHA: the file a server stored is the message.
same_message() {
  if [[ -f $2 && $(sha_norm "$2") == "$3" ]]; then pass "$1: the message arrived byte-identical"
  else fail "$1: the message did not arrive byte-identical ($2)"; fi
}

# run_sansmtp NAME EXIT ARGS...: sansmtp ARGS, stdout in $work/NAME.out,
# stderr in NAME.err; the exit status must be EXIT.
run_sansmtp() {
  local name=$1 want=$2; shift 2
  timeout 60 "$SANSMTP" "$@" >"$work/$name.out" 2>"$work/$name.err"
  local got=$?
  if [[ $got -eq $want ]]; then pass "$name: exit $got"
  else fail "$name: exit $got, expected $want: $(head -c 600 "$work/$name.out" "$work/$name.err")"; fi
}
run_send() { local name=$1 want=$2; shift 2; run_sansmtp "$name" "$want" send --json "$@"; }
run_send_text() { local name=$1 want=$2; shift 2; run_sansmtp "$name" "$want" send "$@"; }
# check NAME EXPR: a Python expression over d, the JSON in $work/NAME.out.
check() { check_file "$1: $2" "$work/$1.out" "$2"; }
# check_file LABEL FILE EXPR
check_file() {
  if $PY -I -c 'import json, sys; d = json.loads(open(sys.argv[1]).read()); sys.exit(0 if eval(sys.argv[2]) else 1)' \
    "$2" "$3" 2>/dev/null; then pass "$1"
  else fail "$1 -- got: $(head -c 800 "$2" 2>/dev/null)"; fi
}

# start_postfix: a private Postfix on a free 127.0.0.1 port ($postfix_port)
# with STARTTLS ($work/cert.pem, made if missing), the common HELO restrictions checked late
# (smtpd_delay_reject, the default), and virtual delivery of
# box@vmail.interop.example to the Maildir $work/vmail/box/.
start_postfix() {
  [[ -f $work/cert.pem ]] || make_cert "$work/cert.pem" "$work/key.pem"
  postfix_port=$(free_port)
  postfix_conf=$work/postfix/etc
  mkdir -p "$postfix_conf" "$work/postfix/spool" "$work/postfix/data" "$work/vmail"
  chown postfix "$work/postfix/data"
  chown nobody:nogroup "$work/vmail"
  chmod 755 "$work/postfix"
  local nobody_uid nogroup_gid
  nobody_uid=$(id -u nobody)
  nogroup_gid=$(getent group nogroup | cut -d: -f3)
  cat >"$postfix_conf/main.cf" <<EOF2
compatibility_level = 3.6
queue_directory = $work/postfix/spool
data_directory = $work/postfix/data
maillog_file = $work/postfix/maillog
maillog_file_prefixes = $work
myhostname = mx.postfix.interop.example
mydestination = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_delay_reject = yes
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = yes
smtpd_tls_security_level = may
smtpd_tls_cert_file = $work/cert.pem
smtpd_tls_key_file = $work/key.pem
virtual_mailbox_domains = vmail.interop.example
virtual_mailbox_base = $work/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$nobody_uid
virtual_gid_maps = static:$nogroup_gid
EOF2
  # Debian's master.cf with smtpd on our port and no chroot, and a second
  # smtpd on $postfix_proxy_port that reads a PROXY header (v1 or v2) first,
  # as behind a load balancer (smtpd_upstream_proxy_protocol = haproxy).
  postfix_proxy_port=$(free_port)
  sed -e "s/^smtp      inet  n       -       y/127.0.0.1:$postfix_port inet n - n/" \
    -e 's/^\([a-z]* *unix *[-n] *[-n] *\)y/\1n/' /etc/postfix/master.cf >"$postfix_conf/master.cf"
  echo "127.0.0.1:$postfix_proxy_port inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy" \
    >>"$postfix_conf/master.cf"
  postfix -c "$postfix_conf" start >"$work/postfix.start" 2>&1 ||
    { cat "$work/postfix.start" "$work/postfix/maillog" 2>/dev/null; die "postfix did not start"; }
  wait_port "$postfix_port" || die "postfix smtpd does not listen"
}
# wait_maildir DIR N: until DIR/new holds N messages (30 s).
wait_maildir() {
  for _ in $(seq 300); do
    [[ $(find "$1/new" -type f 2>/dev/null | wc -l) -ge $2 ]] && return 0
    sleep 0.1
  done
  return 1
}
# postfix_same_messages DIR MESSAGE: every message in DIR/new carries
# MESSAGE's body byte for byte (Postfix adds headers of its own).
postfix_same_messages() {
  local f
  for f in "$1"/new/*; do
    if $PY -I - "$f" "$2" <<'PYEOF'; then pass "postfix: $(basename "$f") carries the body byte-identical"; else fail "postfix: $f differs"; fi
import re, sys
norm = lambda b: re.sub(rb"\r\n|\r|\n", b"\n", b)
got, want = norm(open(sys.argv[1], "rb").read()), norm(open(sys.argv[2], "rb").read())
body = lambda b: b.split(b"\n\n", 1)[1]
sys.exit(0 if body(got) == body(want) and b"\nSubject: sansmtp send interop\n" in got else 1)
PYEOF
  done
}
