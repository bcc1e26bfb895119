#!/usr/bin/env bash
# AF_XDP baseline comparison, one run on one host: the Java backend (ffm-afxdp, public Port
# API) against the same scenarios in C against libxdp (xsk_bench), on one veth pair between
# two namespaces this script creates and removes. Same XDP program (bypass_xdp.o), same
# frame (60-byte UDP), batch 64, rings 2048, copy mode (veth has no zero-copy).
#
#   native/afxdp-bench/run.sh [SECONDS] [PING_ROUNDS] [drv|skb]
#
# Prints every RESULT line, the medians of REPEAT (default 3) alternating runs, and the
# Java/C ratios of the medians. Needs root, make, a JDK >= 22, and
# ffm-afxdp built with its test classes (./mvnw -q -B install -pl api,ffm-afxdp -DskipTests).
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
secs=${1:-5}
rounds=${2:-50000}
xdp=${3:-drv}
# shellcheck disable=SC1091
source "$root/bin/env.sh"
make -s
agrona=$(ls "$HOME"/.m2/repository/org/agrona/agrona/2.6.0/agrona-2.6.0.jar)
cp="$root/ffm-afxdp/target/classes:$root/ffm-afxdp/target/test-classes:$root/api/target/classes:$agrona"
for d in ffm-afxdp/target/classes ffm-afxdp/target/test-classes/io/bypass/afxdp/bench api/target/classes; do
  [ -d "$root/$d" ] || { echo "run.sh: $root/$d missing; build first: ./mvnw -q -B install -pl api,ffm-afxdp -DskipTests" >&2; exit 1; }
done
java_bench() { java --enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
  -cp "$cp" io.bypass.afxdp.bench.XskBenchJava "$@"; }

s=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
A=xba$s; B=xbb$s; IA=xva$s; IB=xvb$s
cleanup() { ip netns del "$A" 2>/dev/null || true; ip netns del "$B" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip -n "$A" link add "$IA" type veth peer name "$IB" netns "$B"
ip -n "$A" addr add 10.199.0.1/24 dev "$IA"; ip -n "$B" addr add 10.199.0.2/24 dev "$IB"
ip -n "$A" link set "$IA" up; ip -n "$B" link set "$IB" up
ip netns exec "$A" ethtool -K "$IA" tx off >/dev/null; ip netns exec "$B" ethtool -K "$IB" tx off >/dev/null
sleep 1
MA=$(ip -n "$A" link show "$IA" | awk '/ether/{print $2}')
MB=$(ip -n "$B" link show "$IB" | awk '/ether/{print $2}')
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# The host may be busy (2 cores here): every measurement alternates C and Java REPEAT times
# against the same traffic source, and the ratio uses the medians.
repeat=${REPEAT:-3}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
jrun() { ip netns exec "$1" bash -c "$(declare -f java_bench); cp='$cp'; java_bench ${*:2}" | grep RESULT; }

echo "== RX: one C generator in A for the whole test, receivers in B (${secs}s each, xdp=$xdp)"
ip netns exec "$A" ./xsk_bench tx "$IA" 9000 "$MB" 10.199.0.2 -d $(((secs + 4) * 2 * repeat + 10)) -x "$xdp" >/dev/null & gen=$!
sleep 1
c_rx=(); j_rx=()
for _ in $(seq "$repeat"); do
  r=$(ip netns exec "$B" ./xsk_bench rx "$IB" 9000 -d "$secs" -x "$xdp" | grep RESULT); echo "C    $r"; c_rx+=("$(field pps "$r")")
  r=$(jrun "$B" rx "$IB" 9000 -d "$secs" -x "$xdp"); echo "Java $r"; j_rx+=("$(field pps "$r")")
done
kill "$gen" 2>/dev/null || true; wait "$gen" 2>/dev/null || true

echo "== TX: sender in A -> B (${secs}s each)"
c_tx=(); j_tx=()
for _ in $(seq "$repeat"); do
  r=$(ip netns exec "$A" ./xsk_bench tx "$IA" 9001 "$MB" 10.199.0.2 -d "$secs" -x "$xdp" | grep RESULT); echo "C    $r"; c_tx+=("$(field pps "$r")")
  r=$(jrun "$A" tx "$IA" 9001 "$MB" 10.199.0.2 -d "$secs" -x "$xdp"); echo "Java $r"; j_tx+=("$(field pps "$r")")
done

echo "== ping-pong: pinger in A, one C pong in B ($rounds round trips after 1000 warm-up, each)"
ip netns exec "$B" ./xsk_bench pong "$IB" 9002 -d 3600 -x "$xdp" >/dev/null & pong=$!
sleep 1
c_p50=(); c_p99=(); j_p50=(); j_p99=()
for _ in $(seq "$repeat"); do
  r=$(ip netns exec "$A" ./xsk_bench ping "$IA" 9002 "$MB" 10.199.0.2 -n "$rounds" -x "$xdp" | grep RESULT); echo "C    $r"
  c_p50+=("$(field p50_ns "$r")"); c_p99+=("$(field p99_ns "$r")")
  r=$(jrun "$A" ping "$IA" 9002 "$MB" 10.199.0.2 -n "$rounds" -x "$xdp"); echo "Java $r"
  j_p50+=("$(field p50_ns "$r")"); j_p99+=("$(field p99_ns "$r")")
done
kill "$pong" 2>/dev/null || true; wait "$pong" 2>/dev/null || true

m() { printf '%s\n' "$@" | median; }
echo "== medians: C rx $(m "${c_rx[@]}") Java rx $(m "${j_rx[@]}") | C tx $(m "${c_tx[@]}") Java tx $(m "${j_tx[@]}") pps"
echo "==          C p50/p99 $(m "${c_p50[@]}")/$(m "${c_p99[@]}") ns, Java p50/p99 $(m "${j_p50[@]}")/$(m "${j_p99[@]}") ns"
echo "== Java / C (RX, TX: higher is better, goal >= 0.95; ping: lower is better, goal <= 1.10)"
echo "rx_pps   $(ratio "$(m "${j_rx[@]}")" "$(m "${c_rx[@]}")")"
echo "tx_pps   $(ratio "$(m "${j_tx[@]}")" "$(m "${c_tx[@]}")")"
echo "ping_p50 $(ratio "$(m "${j_p50[@]}")" "$(m "${c_p50[@]}")")"
echo "ping_p99 $(ratio "$(m "${j_p99[@]}")" "$(m "${c_p99[@]}")")"
