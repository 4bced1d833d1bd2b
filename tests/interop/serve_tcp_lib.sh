# Sourced by serve_tcp.sh and serve_tcp_attacks.sh: start `sansmtp serve
# --listen 127.0.0.1:0`, read the port it prints, stop it by its PID, and
# compare delivered messages with what was sent. Expects SANSMTP, `work` (a
# temporary folder) and die() (common.sh).
SERVE_PIDS=()

# Every server still running: SIGTERM by PID, then reaped. For the EXIT trap.
stop_all_serves() {
  local p
  for p in "${SERVE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${SERVE_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  SERVE_PIDS=()
}

# start_serve NAME ARGS...: a server with ARGS; sets SERVE_PID and PORT.
start_serve() {
  local name=$1 i
  shift
  : >"$work/$name.out"
  "$SANSMTP" serve --listen 127.0.0.1:0 --hostname mx.interop.example "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  SERVE_PID=$!
  SERVE_PIDS+=("$SERVE_PID")
  PORT=
  for ((i = 0; i < 200; i++)); do
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$work/$name.out")
    [[ -n $PORT ]] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
  done
  die "serve $name did not start: $(cat "$work/$name.err")"
}

# stop_serve: SIGTERM to the last server started; its exit status (0 after
# a clean shutdown).
stop_serve() {
  kill -TERM "$SERVE_PID"
  wait "$SERVE_PID"
  local status=$?
  local keep=() p
  for p in "${SERVE_PIDS[@]}"; do [[ $p == "$SERVE_PID" ]] || keep+=("$p"); done
  SERVE_PIDS=("${keep[@]}")
  return $status
}

# crlf FILE: FILE with every line end made CRLF and a final CRLF: what a
# client's DATA carries of it once the server has removed the dot-stuffing.
crlf() { perl -0777 -pe 's/\r?\n/\r\n/g; $_ .= "\r\n" unless /\r\n\z/' "$1"; }
sha() { sha256sum | cut -d' ' -f1; }

# expect_delivered LABEL BOX SENT [COUNT]: BOX/new holds COUNT (default 1)
# messages, each byte-identical to crlf(SENT), and tmp/ is empty.
expect_delivered() {
  local label=$1 box=$2 sent=$3 count=${4:-1} want f bad=0
  local files=("$box"/new/*)
  [[ -e ${files[0]} ]] || files=()
  if [[ ${#files[@]} -ne $count ]]; then
    fail "$label: ${#files[@]} messages in new/, expected $count"
    return
  fi
  want=$(crlf "$sent" | sha)
  for f in "${files[@]}"; do [[ $(sha <"$f") == "$want" ]] || bad=$((bad + 1)); done
  if [[ $bad -ne 0 ]]; then
    fail "$label: $bad of $count messages differ from what was sent"
    cmp <(crlf "$sent") "${files[0]}" | head -3
    return
  fi
  if [[ -n $(ls -A "$box/tmp") ]]; then fail "$label: files left in tmp/"; return; fi
  echo "ok: $label ($count byte-identical)"
}

# events_check LABEL FILE PYTHON-CONDITION: the condition over the --events
# (or --json) lines of FILE, parsed into the list `ev`; pass or fail
# (net_common.sh) with LABEL, and the file shown on failure.
events_check() {
  local label=$1 file=$2 cond=$3
  if $PY -I - "$file" "$cond" <<'EOF'; then pass "$label"; else fail "$label"; cat "$file"; fi
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)
EOF
}
