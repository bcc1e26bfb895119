#!/usr/bin/env bash
# Java DPDK backend vs the same loops in C, on DPDK's net_null PMD, in one run on one CPU.
# Prints both sides' RX/TX packet rates, their ratio, the price of an empty burst in each
# (the difference is the FFM downcall into the shim), and what the Java loops allocated.
#
#   ./mvnw -q -B install -pl api,ffm-dpdk -DskipTests && native/dpdk-bench/run.sh [SECONDS] [CPU]
#
# Needs root (the EAL) and libdpdk-dev. Other work on the same CPU skews both sides alike,
# but run it alone on a 2-core host.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-5}
cpu=${2:-1}
source "$root/bin/env.sh"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -Wall -Wextra -Werror $(pkg-config --cflags libdpdk) "$root/native/dpdk-bench/dpdk_null_bench.c" \
  -o "$out/dpdk_null_bench" $(pkg-config --libs libdpdk)
agrona=$(find ~/.m2/repository/org/agrona/agrona -name 'agrona-*.jar' | sort | tail -1)
cp="$root/ffm-dpdk/target/classes:$root/ffm-dpdk/target/test-classes:$root/api/target/classes:$agrona"

"$out/dpdk_null_bench" "$seconds" "$cpu" 2>/dev/null | tee "$out/c.txt"
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  -cp "$cp" io.bypass.dpdk.internal.DpdkNullBench "$seconds" "$cpu" 2>/dev/null | tee "$out/java.txt"

val() { awk -v k="$1 $2" '$0 ~ "^"k" " {print $3}' "$3"; }
for dir in rx tx; do
  c=$(val c "$dir" "$out/c.txt"); j=$(val java "$dir" "$out/java.txt")
  awk -v d="$dir" -v c="$c" -v j="$j" 'BEGIN {printf "ratio %s java/c = %.1f%%\n", d, 100 * j / c}'
done
c=$(val c empty-burst "$out/c.txt"); j=$(val java empty-burst "$out/java.txt")
awk -v c="$c" -v j="$j" 'BEGIN {printf "shim downcall cost per burst = %.2f ns (java %.2f - c %.2f)\n", j - c, j, c}'
