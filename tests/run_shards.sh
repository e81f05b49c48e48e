#!/bin/sh
# Runs a doctest binary's cases as several processes side by side: usage
#   run_shards.sh BINARY [doctest options...]
# Half of the suite's wall time is waiting (servers, timers, child processes: 30 s of CPU
# in 60 s of wall time with g++ -O2), so two processes on two cores finish in a little over
# half the time. Shard i of n runs the cases numbered i*N/n+1 .. (i+1)*N/n among the N that
# pass the given filters, in doctest's default order (file, then line); the slow server
# and process cases are spread over the files, which keeps two shards within a few seconds
# of each other.
#
# TEST_SHARDS sets the number of processes (default: the CPU count, at most 4; 1 runs the
# binary as before). The first shard reports as it runs; the others' reports follow, each
# when it is complete, so no two reports interleave. The exit status is the first non-zero
# status of any shard. Every process gets the same options, so a filter (-tc=...) or any
# other doctest option applies to each shard. Each process's doctest summary counts every
# case that passes the filters as passed (doctest's --first/--last skip without counting);
# the assertion counts are the shard's own.
set -u
bin=$1
shift

n=${TEST_SHARDS:-$(nproc 2>/dev/null || echo 1)}
[ "${TEST_SHARDS:-}" ] || [ "$n" -le 4 ] || n=4

count=$("$bin" --count "$@" 2>/dev/null | sed -n 's/.*passing the current filters: \([0-9]*\).*/\1/p')
if [ "$n" -le 1 ] || [ -z "$count" ] || [ "$count" -lt "$n" ]; then
  exec "$bin" "$@"
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/run_shards.XXXXXX")
trap 'rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

pids=""
i=1
while [ "$i" -lt "$n" ]; do
  first=$((i * count / n + 1))
  last=$(((i + 1) * count / n))
  "$bin" "$@" --first="$first" --last="$last" >"$logs/$i" 2>&1 &
  pids="$pids $!"
  i=$((i + 1))
done

echo "[run_shards] $count test cases in $n processes; cases 1..$((count / n)) report first"
status=0
"$bin" "$@" --first=1 --last=$((count / n)) || status=$?

i=1
for pid in $pids; do
  rc=0
  wait "$pid" || rc=$?
  echo "[run_shards] cases $((i * count / n + 1))..$(((i + 1) * count / n)) (exit status $rc):"
  cat "$logs/$i"
  [ "$status" -ne 0 ] || status=$rc
  i=$((i + 1))
done
exit "$status"
