#!/usr/bin/env bash
# Builds and runs the fuzz target of the core's batch entry (cpp/fuzz/fuzz_batch.cpp), with
# AddressSanitizer and UndefinedBehaviorSanitizer; any finding or broken contract exits non-zero.
#
#   cpp/fuzz/run.sh libfuzzer SECONDS [CORPUS_DIR]  coverage-guided, needs clang++ (libFuzzer)
#   cpp/fuzz/run.sh driver RUNS                     random inputs (fuzz_main.cpp), any C++17 compiler
#   cpp/fuzz/run.sh auto SECONDS RUNS               libFuzzer when clang++ is there or installs
#                                                   quickly from Debian's packages, else the driver
#
# Binaries go to build/fuzz/. Run from anywhere; paths are relative to the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-auto}
out=build/fuzz
mkdir -p "$out"
san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
src=(-std=c++17 -g -O1 -Icpp/include cpp/fuzz/fuzz_batch.cpp -pthread)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

have_clang() { command -v clang++ >/dev/null 2>&1; }

run_libfuzzer() {
  local seconds=$1 corpus=${2:-$out/corpus}
  mkdir -p "$corpus"
  local t0=$SECONDS
  clang++ "${san[@]}" -fsanitize=fuzzer "${src[@]}" -o "$out/fuzz_batch"
  echo "fuzz: libFuzzer target built in $((SECONDS - t0)) s"
  # -max_len: room for a few problems of a dozen points each; crashes land in build/fuzz/.
  local log=$out/libfuzzer.log rc=0
  "$out/fuzz_batch" -max_total_time="$seconds" -max_len=1024 -print_final_stats=1 \
    -artifact_prefix="$out/" "$corpus" >"$log" 2>&1 || rc=$?
  grep -E "INITED|DONE|^stat::" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -n 80 "$log"
  fi
  return "$rc"
}

run_driver() {
  local runs=$1 cxx=${CXX:-g++}
  local t0=$SECONDS
  "$cxx" "${san[@]}" "${src[@]}" cpp/fuzz/fuzz_main.cpp -o "$out/fuzz_driver"
  echo "fuzz: random-input driver built with $cxx in $((SECONDS - t0)) s"
  "$out/fuzz_driver" -runs="$runs" -seed="${FUZZ_SEED:-1}" -max_len=1024
}

case "$mode" in
  libfuzzer) run_libfuzzer "${2:-30}" "${3:-}" ;;
  driver) run_driver "${2:-20000}" ;;
  auto)
    if ! have_clang && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "fuzz: installing clang from Debian's packages"
      (timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq clang >/dev/null) ||
        echo "fuzz: clang did not install; using the driver"
    fi
    if have_clang && clang++ -fsanitize=fuzzer -x c++ - -o "$out/.probe" >/dev/null 2>&1 <<<'
#include <cstdint>
#include <cstddef>
extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }'; then
      run_libfuzzer "${2:-30}"
    else
      run_driver "${3:-20000}"
    fi
    ;;
  *) echo "usage: $0 {libfuzzer SECONDS [CORPUS]|driver RUNS|auto SECONDS RUNS}" >&2; exit 2 ;;
esac
