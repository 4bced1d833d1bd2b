#!/usr/bin/env bash
# Source-based coverage of what the fuzz corpora exercise (fuzz/README.md, 3.):
# the <target>_replay binaries built by clang with -fprofile-instr-generate
# -fcoverage-mapping, run over the checked-in corpus (and any extra
# directories), then llvm-profdata-14 merge and llvm-cov-14 report / show.
#
#   fuzz/coverage.sh                             every registered target, checked-in corpora
#   fuzz/coverage.sh fuzz_ehlo_argument [DIR...] one target, plus extra corpus dirs
#
# Environment: BUILD (default /tmp/sansmtp-fuzz-coverage), JOBS (default 1).
# Needs clang, llvm-profdata-14, llvm-cov-14 and what SANSMTP_BUILD_TESTS needs.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-/tmp/sansmtp-fuzz-coverage}
jobs=${JOBS:-1}

if [[ $# -gt 0 ]]; then
  targets=("$1")
  shift
else
  # Every target CMakeLists.txt registers.
  mapfile -t targets < <(sed -n 's/^sansmtp_fuzz_target(\([A-Za-z0-9_]*\)).*/\1/p' "$src/fuzz/CMakeLists.txt")
fi
extra=("$@")

CC=clang CXX=clang++ cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
  -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" \
  -DSANSMTP_BUILD_TESTS=ON -DSANSMTP_BUILD_TOOLS=OFF \
  -DSANSMTP_BUILD_FUZZERS=OFF -DSANSMTP_SANITIZE=OFF >/dev/null
ninja -C "$build" -j "$jobs" "${targets[@]/%/_replay}"

rm -rf "$build/profraw" && mkdir -p "$build/profraw"
objects=()
for t in "${targets[@]}"; do
  bin=$build/fuzz/${t}_replay
  # An input that aborts loses the profile, so stop there (the log names it).
  # (The work budget is off: an unoptimised, instrumented build measures
  # coverage, not cost; fuzz/work_budget.hpp is calibrated for the fuzz build.)
  if ! SANSMTP_FUZZ_BUDGET_SCALE=0 LLVM_PROFILE_FILE="$build/profraw/$t-%p.profraw" "$bin" "$src/fuzz/corpus/$t" "${extra[@]}" \
      2>"$build/$t.log"; then
    tail -n 20 "$build/$t.log" >&2
    echo "coverage: $t replay failed; fix that input first (log: $build/$t.log)" >&2
    exit 1
  fi
  tail -n 1 "$build/$t.log"
  objects+=(-object "$bin")
done

llvm-profdata-14 merge -sparse "$build"/profraw/*.profraw -o "$build/fuzz.profdata"
ignore='/(fuzz|generated|tests)/|^/usr/'
llvm-cov-14 report "${objects[@]:1}" -instr-profile="$build/fuzz.profdata" -ignore-filename-regex="$ignore"
llvm-cov-14 show "${objects[@]:1}" -instr-profile="$build/fuzz.profdata" -ignore-filename-regex="$ignore" \
  -format=html -output-dir="$build/html" -show-line-counts-or-regions
echo "HTML: $build/html/index.html"
