#!/bin/bash -eu
# The OSS-Fuzz / ClusterFuzzLite build contract: every fuzz target built
# from $CC, $CXX, $CFLAGS, $CXXFLAGS and linked with $LIB_FUZZING_ENGINE
# into $OUT, with <target>_seed_corpus.zip, <target>.dict and
# <target>.options beside each binary. Runs in the image of
# .clusterfuzzlite/Dockerfile, or directly (scripts/test does, with clang's
# libFuzzer and ASan: there is no container runtime on the test machines).
#
#   SRC=... WORK=... OUT=... CC=clang CXX=clang++ CFLAGS=... CXXFLAGS=... \
#     LIB_FUZZING_ENGINE=-fsanitize=fuzzer .clusterfuzzlite/build.sh
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -f "$root/fuzz/CMakeLists.txt" ] || root=$SRC/sansmtp  # (copied to $SRC/ in the image)
build=${WORK:-/tmp}/sansmtp-fuzz-build
: "${OUT:?OUT must name the output directory}"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DSANSMTP_BUILD_FUZZERS=ON -DSANSMTP_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" \
  -DSANSMTP_BUILD_TESTS=OFF -DSANSMTP_BUILD_TOOLS=OFF -DSANSMTP_BUILD_BENCH=OFF -DSANSMTP_BUILD_ASIO=OFF
mapfile -t targets < <(sed -n 's/^sansmtp_fuzz_target(\([A-Za-z0-9_]*\)).*/\1/p' "$root/fuzz/CMakeLists.txt")
cmake --build "$build" -j "${SANSMTP_JOBS:-$(nproc)}" --target "${targets[@]}"

for t in "${targets[@]}"; do
  cp "$build/fuzz/$t" "$OUT/"
  rm -f "$OUT/${t}_seed_corpus.zip"
  (cd "$root/fuzz/corpus/$t" && zip -q -X "$OUT/${t}_seed_corpus.zip" ./*)
  cp "$root/fuzz/$t.dict" "$root/fuzz/$t.options" "$OUT/"
done
echo "built ${#targets[@]} fuzz targets into $OUT"
