#!/usr/bin/env bash
# Build the cargo-fuzz targets (fuzz/) and run each for SECONDS (default 20), starting from the
# committed seeds. cargo-fuzz needs nightly features; the stable toolchain provides them with
# RUSTC_BOOTSTRAP=1 (this machine has no nightly). Crashes land in fuzz/artifacts/<target>/.
# Prints each target's executions and the total.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
export RUSTC_BOOTSTRAP=1
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi
cargo fuzz build -O
total=0
for target in codes form licence_file; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  if ! cargo fuzz run -O "$target" "corpus/$target" "seeds/$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $target failed (see fuzz/artifacts/$target)"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  echo "fuzz $target: ${runs:-0} executions in ${seconds} s"
  total=$((total + ${runs:-0}))
  rm -f "$log"
done
echo "fuzz total: $total executions"
