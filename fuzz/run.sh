#!/usr/bin/env bash
# Runs every fuzz target for a few seconds (FUZZ_SECONDS, default 8) from seeds the writer makes
# (fuzz/examples/make_seeds.rs), as `make test-fuzz` does. A crash, a timeout (10 s for one
# input), one allocation over 256 MiB or more than 1 GiB in all (AddressSanitizer's share
# included) fails the run; libFuzzer leaves the input in fuzz/artifacts/<target>/, to be turned
# into a regression test (tests/fuzz_regressions.rs).
# With the nightly toolchain the targets run under AddressSanitizer; without it, without one.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-8}"
targets=(footer header locator bat bitmap whole)
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
  build_opts=(-O)
else
  fuzz=(cargo fuzz)
  build_opts=(-O -s none)
fi
cargo run --quiet --example make_seeds -- corpus
"${fuzz[@]}" build "${build_opts[@]}"
mkdir -p target
passed=0
failed=0
for t in "${targets[@]}"; do
  log="target/fuzz-$t.log"
  if "${fuzz[@]}" run "${build_opts[@]}" "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=1024 -malloc_limit_mb=256 \
      -max_len=70000 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(awk '/^stat::number_of_executed_units/ { print $2 }' "$log")
    printf 'fuzz %-8s %8s runs in %ss, no crash\n' "$t" "${runs:-?}" "$seconds"
    passed=$((passed + 1))
  else
    printf 'fuzz %-8s FAILED; the end of its log (%s):\n' "$t" "fuzz/$log"
    tail -n 40 "$log"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
