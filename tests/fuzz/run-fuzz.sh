#!/usr/bin/env bash
# run-fuzz.sh FUZZER CORPUS_DIR SECONDS ARTIFACT_DIR
# Runs one libFuzzer target for a bounded time, starting from a copy of its
# seed corpus in a temporary directory (the source tree is never written;
# new inputs are thrown away). A crashing input is kept in ARTIFACT_DIR and
# printed in hex, so a CI log is enough to reproduce it.
# BKP_FUZZ_SECONDS overrides SECONDS (e.g. for a long local run).
set -euo pipefail
fuzzer=$1 corpus=$2 seconds=${BKP_FUZZ_SECONDS:-$3} artifacts=$4

work=$(mktemp -d "${TMPDIR:-/tmp}/bkp-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/tmp" "$artifacts"
cp -R "$corpus/." "$work/corpus/"
# fuzz_config writes its input to a file: keep that inside $work too.
export TMPDIR=$work/tmp
# Undefined behaviour is a crash here, not a warning; leaks are too.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"

before=$(ls "$artifacts")
# libFuzzer exits 77 on a crash by default, which meson counts as a skip:
# use 1 for every failure.
status=0
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
  -error_exitcode=1 -timeout_exitcode=1 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$work/corpus" || status=$?

if [[ $status -ne 0 ]]; then
  for f in $(comm -13 <(echo "$before") <(ls "$artifacts")); do
    echo "run-fuzz: failing input kept as $artifacts/$f ($(wc -c <"$artifacts/$f") bytes):"
    od -An -tx1 -v "$artifacts/$f" | head -64
  done
  echo "run-fuzz: reproduce with: $fuzzer $artifacts/<input>"
fi
exit $status
