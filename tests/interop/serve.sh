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
  if ! grep -q $'^\\.leading dot\r$' "$box"/new/*; then fail "smtplib: dot line"; fi
  if ! grep -q $'na\xc3\xafve\r$' "$box"/new/*; then fail "smtplib: 8-bit body"; fi
  [[ $FAILS -eq 0 ]] && echo "ok: smtplib"
else
  fail "smtplib"; cat "$work/py.log"
fi

if [[ $FAILS -ne 0 ]]; then echo "$FAILS interop checks failed"; exit 1; fi
echo "all serve interop checks passed"
