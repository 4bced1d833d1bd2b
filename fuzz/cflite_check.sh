#!/usr/bin/env bash
# Checks the OSS-Fuzz / ClusterFuzzLite build contract without a container:
# runs .clusterfuzzlite/build.sh with the variables the base image sets
# (clang, ASan+UBSan, libFuzzer), then checks that every target registered
# in fuzz/CMakeLists.txt landed in $OUT with its seed corpus zip, dictionary
# and options, and that each binary runs its whole seed corpus.
#
#   fuzz/cflite_check.sh          (scripts/test runs it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export SRC=$root WORK=$tmp/work OUT=$tmp/out CC=clang CXX=clang++
flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link"
export CFLAGS=$flags CXXFLAGS=$flags LIB_FUZZING_ENGINE=-fsanitize=fuzzer
mkdir -p "$WORK" "$OUT"
export SANSMTP_JOBS=${SANSMTP_JOBS:-2}
bash "$root/.clusterfuzzlite/build.sh" >"$tmp/build.log" 2>&1 || { tail -n 40 "$tmp/build.log"; exit 1; }
tail -n 1 "$tmp/build.log"

mapfile -t targets < <(sed -n 's/^sansmtp_fuzz_target(\([A-Za-z0-9_]*\)).*/\1/p' "$root/fuzz/CMakeLists.txt")
fails=0
for t in "${targets[@]}"; do
  for f in "$t" "${t}_seed_corpus.zip" "$t.dict" "$t.options"; do
    [ -s "$OUT/$f" ] || { echo "FAIL: $OUT/$f missing"; fails=$((fails + 1)); }
  done
  [ -x "$OUT/$t" ] || continue
  seeds=$(ls "$root/fuzz/corpus/$t" | wc -l)
  in_zip=$(unzip -Z1 "$OUT/${t}_seed_corpus.zip" | wc -l)
  [ "$seeds" -eq "$in_zip" ] || { echo "FAIL: $t: $in_zip seeds in the zip, $seeds in fuzz/corpus"; fails=$((fails + 1)); }
  mkdir -p "$tmp/corpus/$t"
  unzip -q "$OUT/${t}_seed_corpus.zip" -d "$tmp/corpus/$t"
  # -runs=0: run every seed once, then stop (what OSS-Fuzz's check_build does).
  if "$OUT/$t" -runs=0 -dict="$OUT/$t.dict" "$tmp/corpus/$t" >"$tmp/$t.log" 2>&1; then
    echo "ok   $t: $in_zip seeds ($(grep -o 'INITED.*' "$tmp/$t.log" | head -n 1))"
  else
    tail -n 20 "$tmp/$t.log"
    echo "FAIL: $t does not run its seed corpus"
    fails=$((fails + 1))
  fi
done
[ "$fails" -eq 0 ] || { echo "ClusterFuzzLite contract: $fails failures"; exit 1; }
echo "ClusterFuzzLite contract: ${#targets[@]} targets, all present and running their seeds"
