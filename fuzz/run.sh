#!/bin/sh
# Runs libFuzzer targets, each for FUZZ_SECONDS (default 30), FUZZ_JOBS at a time (default:
# the number of CPUs; each target is one process), and prints a summary: executions,
# executions per second, corpus size, and whether it found a failure. Usage: fuzz/run.sh build/fuzz/<target>...
#
# Seeds come from fuzz/corpus/<target>/ (committed, small); what the run discovers goes to
# build/fuzz/corpus/<target>/ (not committed); a failing input is written to
# build/fuzz/artifacts/<target>-crash-... Replay one with: build/fuzz/<target> <file>.
# fuzz/<target>.dict is passed as a dictionary when it exists. FUZZ_ARGS adds flags.
set -u
seconds="${FUZZ_SECONDS:-30}"
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"
mkdir -p build/fuzz/artifacts

# One target: its report goes to build/fuzz/<name>.report (printed in order at the end),
# its summary line to .summary, and .failed exists when it failed.
run_one() {
  bin=$1
  name=$(basename "$bin")
  seeds="fuzz/corpus/$name"
  work="build/fuzz/corpus/$name"
  report="build/fuzz/$name.report"
  mkdir -p "$work" "$seeds"
  rm -f "build/fuzz/$name.failed"
  dict=""
  [ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
  log="build/fuzz/$name.log"
  echo "== fuzz $name: ${seconds}s (log: $log)" >"$report"
  # The seeds first: a committed reproducer must pass before new inputs are explored.
  if ! "$bin" -runs=0 $dict "$seeds" >"$log.seeds" 2>&1; then
    { echo "   FAIL replaying $seeds (see $log.seeds)"; tail -n 30 "$log.seeds"; } >>"$report"
    echo "$name: seeds FAIL" >"build/fuzz/$name.summary"
    touch "build/fuzz/$name.failed"
    return
  fi
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build/fuzz/artifacts/$name-" $dict ${FUZZ_ARGS:-} "$work" "$seeds" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  files=$(ls "$work" | wc -l)
  if [ "$rc" -ne 0 ]; then
    { echo "   FAIL (exit $rc): see $log and build/fuzz/artifacts/$name-*"
      grep -m 5 -E 'FUZZ_CHECK|ERROR: |runtime error|SUMMARY' "$log" | sed 's/^/   /'; } >>"$report"
    echo "$name: FAIL after ${runs:-?} runs" >"build/fuzz/$name.summary"
    touch "build/fuzz/$name.failed"
  else
    rate=""
    [ -n "$secs" ] && [ "$secs" -gt 0 ] && [ -n "$runs" ] && rate=" ($((runs / secs))/s)"
    echo "   ok: ${runs:-?} runs in ${secs:-?} s$rate, coverage ${cov:-?}, corpus $files inputs" >>"$report"
    echo "$name: ok, ${runs:-?} runs$rate, cov ${cov:-?}, corpus $files" >"build/fuzz/$name.summary"
  fi
}

# Start the targets, at most $jobs running at once (a batch waits for its slowest: they
# all run for the same time).
running=0
for bin in "$@"; do
  run_one "$bin" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait
    running=0
  fi
done
wait

status=0
for bin in "$@"; do
  name=$(basename "$bin")
  cat "build/fuzz/$name.report"
  [ -f "build/fuzz/$name.failed" ] && status=1
done
echo "== fuzz summary (${seconds}s per target, $jobs at a time)"
for bin in "$@"; do sed 's/^/   /' "build/fuzz/$(basename "$bin").summary"; done
exit $status
