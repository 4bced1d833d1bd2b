#!/usr/bin/env bash
# Interop test: `sansmtp serve --listen --proxy-protocol` behind real load
# balancers, with a real client (swaks) connecting from 127.0.0.2 through
# each, so that the client's address differs from the proxy's (127.0.0.1):
#   - HAProxy (Debian's haproxy), mode tcp, `send-proxy` (v1),
#     `send-proxy-v2`, and `send-proxy-v2-ssl` behind a TLS bind (implicit
#     TLS on the proxy, swaks --tlsc: the SSL TLV says what the client did);
#   - nginx's stream module (libnginx-mod-stream) with `proxy_protocol on`;
#   - swaks straight to serve (no header: closed without a greeting), and a
#     serve whose --proxy-from leaves 127.0.0.1 out (refused, untrusted_proxy).
# Each case asserts what serve recorded in its --events log: the client's
# real address and port (swaks --local-interface/--local-port), the proxy as
# the peer, the version; the messages land in the Maildir.
# The configurations are the ones docs/deployment.md shows.
#
#     bash tests/interop/proxy.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_command swaks swaks
need_command haproxy haproxy
need_command nginx nginx-light
[[ -f /usr/lib/nginx/modules/ngx_stream_module.so ]] || die "nginx stream module missing (apt-get install libnginx-mod-stream)"
perl -MNet::SSLeay -e 1 2>/dev/null || die "swaks --tlsc needs Net::SSLeay (apt-get install libnet-ssleay-perl)"
source "$HERE/net_common.sh"
net_setup
source "$HERE/serve_tcp_lib.sh"
trap 'stop_all_serves; net_cleanup' EXIT

printf 'Subject: through a proxy\n\nhello\n' >"$work/m.eml"
# client_port: a free port for swaks's end, so the log's port can be checked.
client_port() { $PY -I -c 'import socket; s=socket.socket(); s.bind(("127.0.0.2", 0)); print(s.getsockname()[1])'; }

start_serve proxied --proxy-protocol any --maildir "$work/box" --events "$work/events.jsonl"
serve_port=$PORT

# --- HAProxy ----------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=mx.interop.example \
  -keyout "$work/proxy.key" -out "$work/proxy.crt" 2>/dev/null || die "openssl req failed"
cat "$work/proxy.crt" "$work/proxy.key" >"$work/proxy.pem"
ha_v1=$(free_port); ha_v2=$(free_port); ha_tls=$(free_port)
cat >"$work/haproxy.cfg" <<EOF
global
  pidfile $work/haproxy.pid
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend smtp_v1
  bind 127.0.0.1:$ha_v1
  default_backend serve_v1
backend serve_v1
  server serve 127.0.0.1:$serve_port send-proxy
frontend smtp_v2
  bind 127.0.0.1:$ha_v2
  default_backend serve_v2
backend serve_v2
  server serve 127.0.0.1:$serve_port send-proxy-v2
frontend smtps
  bind 127.0.0.1:$ha_tls ssl crt $work/proxy.pem
  default_backend serve_v2_ssl
backend serve_v2_ssl
  server serve 127.0.0.1:$serve_port send-proxy-v2-ssl
EOF
haproxy -c -f "$work/haproxy.cfg" >"$work/haproxy-check.log" 2>&1 || { cat "$work/haproxy-check.log"; die "haproxy rejects its configuration"; }
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
for p in "$ha_v1" "$ha_v2" "$ha_tls"; do wait_port "$p" || die "haproxy did not listen on $p"; done

# --- nginx stream -----------------------------------------------------------------
ng=$(free_port)
cat >"$work/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log info;
events {}
stream {
  server {
    listen 127.0.0.1:$ng;
    proxy_pass 127.0.0.1:$serve_port;
    proxy_protocol on;
  }
}
EOF
nginx -t -c "$work/nginx.conf" -p "$work" >"$work/nginx-check.log" 2>&1 || { cat "$work/nginx-check.log"; die "nginx rejects its configuration"; }
nginx -c "$work/nginx.conf" -p "$work" >"$work/nginx.log" 2>&1 &
pids+=($!)
wait_port "$ng" || die "nginx did not listen on $ng"

# through LABEL PORT VERSION [SWAKS FLAGS...]: one message from 127.0.0.2
# through the proxy on PORT; the session's proxy event names that client.
through() {
  local label=$1 port=$2 version=$3 cport
  shift 3
  cport=$(client_port)
  : >"$work/events.jsonl"
  if timeout 30 swaks --server 127.0.0.1 --port "$port" --local-interface 127.0.0.2 --local-port "$cport" \
    --helo client.interop.example --from alice@example.org --to bob@example.net --data "$work/m.eml" \
    --timeout 20 "$@" >"$work/swaks-$label.log" 2>&1; then
    pass "$label: swaks delivered through the proxy"
  else
    fail "$label: swaks"; tail -15 "$work/swaks-$label.log"
    return
  fi
  sleep 0.3  # the close event follows the 221
  events_check "$label: the events log names the client 127.0.0.2:$cport ($version), the proxy as the peer" \
    "$work/events.jsonl" \
    "[e for e in ev if e['event'] == 'proxy' and e['version'] == '$version' and e['client'] == '127.0.0.2:$cport'
        and e['peer'].startswith('127.0.0.1:') and e['server'] == '127.0.0.1:$port']
     and [e for e in ev if e['event'] == 'connect' and e['client'] == '127.0.0.2:$cport']
     and [e for e in ev if e['event'] == 'reply' and e['code'] == 250]"
  grep -q "Hello client.interop.example \[127.0.0.2\]" "$work/swaks-$label.log" &&
    pass "$label: the EHLO reply echoes the client's address" ||
    fail "$label: the EHLO reply does not echo 127.0.0.2"
}

through haproxy-send-proxy "$ha_v1" v1
through haproxy-send-proxy-v2 "$ha_v2" v2
through haproxy-send-proxy-v2-ssl "$ha_tls" v2 --tlsc
events_check "haproxy-send-proxy-v2-ssl: the SSL TLV says the client used TLS, with its version" "$work/events.jsonl" \
  "[e for e in ev if e['event'] == 'proxy' and e.get('ssl', {}).get('client', 0) & 1
     and e['ssl'].get('version', '').startswith('TLSv1.')]"
through nginx-stream "$ng" v1

n=$(find "$work/box/new" -type f | wc -l)
[[ $n -eq 4 ]] && pass "four messages delivered" || fail "$n messages delivered, expected 4"
for f in "$work"/box/new/*; do
  grep -q '^hello' "$f" || fail "a message lost its body: $f"
done

# --- no header, and an untrusted proxy ----------------------------------------------
: >"$work/events.jsonl"
timeout 20 swaks --server 127.0.0.1 --port "$serve_port" --quit-after connect --timeout 5 \
  >"$work/swaks-direct.log" 2>&1 && fail "direct: swaks got a greeting without a PROXY header"
grep -q '^<~* *220' "$work/swaks-direct.log" && fail "direct: a greeting was sent"
sleep 0.3
events_check "direct: no header is a bad_proxy_header, closed without a reply" "$work/events.jsonl" \
  "[e for e in ev if e['event'] == 'error' and e['errc'] == 'bad_proxy_header']
     and not [e for e in ev if e['event'] == 'reply']"
finish_ok=0
stop_serve && finish_ok=1
[[ $finish_ok == 1 ]] && pass "serve exited 0 after SIGTERM" || fail "serve did not exit 0 after SIGTERM"

start_serve untrusted --proxy-protocol v1 --proxy-from 10.0.0.0/8,2001:db8::/32 --sink --events "$work/untrusted.jsonl"
got=$($PY -I - "$PORT" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"PROXY TCP4 203.0.113.5 192.0.2.25 4242 25\r\nQUIT\r\n")
data = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
except OSError:
    pass
print(len(data))
EOF
)
[[ $got == 0 ]] && pass "untrusted: closed without a byte" || fail "untrusted: $got octets came back"
stop_serve || fail "untrusted: serve did not exit 0"
events_check "untrusted: refused, reason untrusted_proxy, and no session" "$work/untrusted.jsonl" \
  "[e for e in ev if e['event'] == 'refused' and e['reason'] == 'untrusted_proxy' and e['peer'].startswith('127.0.0.1:')]
     and not [e for e in ev if e['event'] in ('connect', 'reply')]"

net_finish "proxy"
