#!/usr/bin/env bash
# Wall time and peak memory of the command line at 1k, 10k and 100k people, as a markdown table
# (the median of 5 runs). Needs GNU time (/usr/bin/time, Debian package `time`).
#
#   benches/cli.sh            # builds in release mode, generates the inputs under $TMPDIR
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin clickup-members --example generate
bin=target/release/clickup-members
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints "milliseconds kilobytes" of the median of 5 runs of the command: wall time from the
# shell's clock (GNU time's is 10 ms coarse), peak memory from GNU time.
measure() {
  local runs=() i start end
  for i in 1 2 3 4 5; do
    [ -n "${PREPARE:-}" ] && eval "$PREPARE"
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    runs+=("$(( (end - start) / 1000 )) $(tail -1 "$work/time")")
  done
  printf '%s\n' "${runs[@]}" | sort -n | sed -n 3p | awk '{ printf "%.1f %s\n", $1 / 1000, $2 }'
}

echo "| people | command | wall time (ms) | peak memory (MB) |"
echo "| ---: | --- | ---: | ---: |"
for n in 1000 10000 100000; do
  dir=$work/w$n
  target/release/examples/generate --members $n --out "$dir" 2>/dev/null
  row() {
    local label=$1; shift
    read -r ms kb <<<"$(measure "$@")"
    printf '| %s | %s | %s | %.0f |\n' "$n" "$label" "$ms" "$(echo "$kb / 1024" | bc -l)"
  }
  row "validate" $bin validate -q -f "$dir/members.yaml"
  row "plan --snapshot (text)" $bin plan -f "$dir/members.yaml" --snapshot "$dir/workspace.snapshot.json"
  row "plan --snapshot --format json" $bin plan --format json -f "$dir/members.yaml" --snapshot "$dir/workspace.snapshot.json"
  PREPARE="rm -rf $work/a$n && cp -r $dir $work/a$n" \
    row "apply --snapshot" $bin apply -q --auto-approve --allow-replace -f "$work/a$n/members.yaml" --snapshot "$work/a$n/workspace.snapshot.json"
  row "report --snapshot --format csv" $bin report --format csv -f "$dir/members.yaml" --snapshot "$dir/workspace.snapshot.json"
done
# The same 100,000 people, a tenth of them with an `expires` date.
dir=$work/x100000
target/release/examples/generate --members 100000 --expires 10 --out "$dir" 2>/dev/null
n="100000, 10 % with expires"
row "validate" $bin validate -q -f "$dir/members.yaml"
row "plan --snapshot (text)" $bin plan -f "$dir/members.yaml" --snapshot "$dir/workspace.snapshot.json"
# The same 100,000 people, the file stating `role:` for every member (`member` included).
dir=$work/r100000
target/release/examples/generate --members 100000 --roles --out "$dir" 2>/dev/null
n="100000, role: for everyone"
row "validate" $bin validate -q -f "$dir/members.yaml"
row "plan --snapshot (text)" $bin plan -f "$dir/members.yaml" --snapshot "$dir/workspace.snapshot.json"
# 20 Workspaces of 5,000 people in one folder (-f DIR), each with its snapshot.
many=$work/many
mkdir -p "$many/clickup" "$many/snapshots"
for i in $(seq 1 20); do
  id=$((9100000000 + i))
  target/release/examples/generate --members 5000 --workspace "$id" --seed "$i" --out "$many/w$i" 2>/dev/null
  mv "$many/w$i/members.yaml" "$many/clickup/w$i.yaml"
  mv "$many/w$i/workspace.snapshot.json" "$many/snapshots/$id.json"
done
n="20 Workspaces × 5,000"
row "validate -f DIR" $bin validate -q -f "$many/clickup"
row "plan -f DIR --snapshot DIR (text)" $bin plan -f "$many/clickup" --snapshot "$many/snapshots"
start=$(date +%s%N)
for _ in $(seq 100); do $bin --version >/dev/null; done
end=$(date +%s%N)
echo
echo "\`--version\`: $(( (end - start) / 100000 )) µs a run (mean of 100, process start included)"
