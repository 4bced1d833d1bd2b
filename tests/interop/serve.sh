#!/usr/bin/env bash
# Interop test: real SMTP clients against `sansmtp serve --stdio`.
#   - swaks (--pipe runs the server as its child), with and without
#     PIPELINING, a body with leading dots;
#   - Python's smtplib over a socketpair (tests/interop/smtplib_over_stdio.py).
# Every message must land in the Maildir byte-exact (dot-unstuffed, CRLF).
#
#     bash tests/interop/serve.sh /path/to/sansmtp
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/common.sh"
SANSMTP=${1:?usage: $0 /path/to/sansmtp}
need_sansmtp "$SANSMTP"
need_command swaks swaks

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# swaks, pipelined and not: one message each, the dot-stuffed line restored.
for mode in pipeline no-pipeline; do
  box=$work/swaks-$mode
  flag=(--pipeline)
  [[ $mode == no-pipeline ]] && flag=()
  if ! timeout 30 swaks --pipe "$SANSMTP serve --stdio --maildir $box --hostname mx.interop.example" \
      --helo client.interop.example --from alice@example.org --to bob@example.net "${flag[@]}" \
      --header "Subject: interop $mode" --body $'first\n.dot line\n..two dots\nlast' >"$work/swaks.log" 2>&1; then
    fail "swaks $mode"; cat "$work/swaks.log"; continue
  fi
  files=("$box"/new/*)
  if [[ ${#files[@]} -ne 1 || ! -f ${files[0]} ]]; then fail "swaks $mode: ${#files[@]} files in new/"; continue; fi
  # What swaks meant: its body lines with CRLF, dots as typed (it stuffs them).
  if ! grep -q $'^\\.dot line\r$' "${files[0]}" || ! grep -q $'^\\.\\.two dots\r$' "${files[0]}"; then
    fail "swaks $mode: body not restored"; cat -A "${files[0]}"
  else
    echo "ok: swaks $mode"
  fi
  [[ $mode == pipeline ]] && ! grep -q '<-  250-PIPELINING' "$work/swaks.log" && fail "swaks saw no PIPELINING"
done

# Python smtplib over a socketpair: two messages, two and one recipients.
box=$work/smtplib
if timeout 30 $PY -I "$HERE/smtplib_over_stdio.py" "$SANSMTP" "$box" >"$work/py.log" 2>&1; then
  count=$(ls "$box/new" | wc -l)
  if [[ $count -ne 2 ]]; then fail "smtplib: $count messages"; fi
  # grep reads the files itself: `cat | grep -q` fails under pipefail when
  # grep exits at the first match and cat is cut off (SIGPIPE).
  if ! grep -q -h $'^\\.leading dot\r$' "$box"/new/*; then fail "smtplib: dot line"; fi
  if ! grep -q -h $'na\xc3\xafve\r$' "$box"/new/*; then fail "smtplib: 8-bit body"; fi
  [[ $FAILS -eq 0 ]] && echo "ok: smtplib"
else
  fail "smtplib"; cat "$work/py.log"
fi

# Container replicas on one volume: serve --stdio in PID namespaces of its
# own (pid 1 in each), the same --hostname, delivering into the same Maildir
# at the same moment, eight times over. Every message must be there: a name
# made of time, pid and --hostname alone made them collide and rename(2)
# replaced one message with the other.
if unshare --pid --fork true 2>/dev/null; then
  box=$work/replicas
  session=$'EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\nSubject: replica\r\n\r\nhello\r\n.\r\nQUIT\r\n'
  mkdir -p "$box"
  for round in 1 2 3 4 5 6 7 8; do
    replicas=()
    for replica in a b; do
      printf '%s' "$session" | timeout 30 unshare --pid --fork --kill-child \
        "$SANSMTP" serve --stdio --maildir "$box" --hostname mx.interop.example >"$work/replica-$replica.out" &
      replicas+=($!)
    done
    for p in "${replicas[@]}"; do wait "$p" || fail "replica round $round: serve failed"; done
  done
  count=$(ls "$box/new" | wc -l)
  if [[ $count -ne 16 ]]; then fail "replicas: $count messages in new/, expected 16"; else echo "ok: replicas (16 messages)"; fi
  # The host part is this machine's name ("/" and ":" encoded), not --hostname.
  host=$(hostname | sed -e 's,\\,\\134,g' -e 's,/,\\057,g' -e 's,:,\\072,g')
  bad=$(ls "$box/new" | grep -v -F -c ".$host" || true)
  [[ $bad -eq 0 ]] || fail "replicas: $bad names without the host part .$host: $(ls "$box/new" | head -2)"
else
  echo "skip: replicas (unshare --pid needs root or user namespaces)"
fi

if [[ $FAILS -ne 0 ]]; then echo "$FAILS interop checks failed"; exit 1; fi
echo "all serve interop checks passed"
