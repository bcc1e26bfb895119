#!/usr/bin/env bash
# Regenerates the jextract bindings of the DPDK backend from dpdk.h and includes.txt into
# ffm-dpdk/src/main/java/io/bypass/dpdk/internal/gen. Never edit the generated files by hand:
# change includes.txt (or dpdk.h) and run this script again, then commit both.
#
# Needs: a jextract whose output targets the JDK 22 FFM API on PATH (see the team notes for how
# it is built), and DPDK 22.11 headers (Debian libdpdk-dev, found with pkg-config libdpdk).
set -euo pipefail

gen_dir=$(cd "$(dirname "$0")" && pwd)
module_dir=$(dirname "$gen_dir")
src_dir="$module_dir/src/main/java"
package=io.bypass.dpdk.internal.gen
out_dir="$src_dir/${package//.//}"

if ! command -v jextract >/dev/null 2>&1; then
  echo "regenerate.sh: 'jextract' is not on PATH." >&2
  echo "  Build jextract (openjdk/jextract, JDK 22 API) and add its bin/ directory to PATH," >&2
  echo "  e.g. export PATH=/work/tools/jextract/bin:\$PATH" >&2
  exit 1
fi
if ! pkg-config --exists libdpdk; then
  echo "regenerate.sh: DPDK headers not found (pkg-config libdpdk): apt-get install libdpdk-dev" >&2
  exit 1
fi
dpdk_version=$(pkg-config --modversion libdpdk)
case "$dpdk_version" in
  22.11*) ;;
  *) echo "regenerate.sh: warning: DPDK $dpdk_version, the bindings are written for 22.11" >&2 ;;
esac
# Only the -I flags: jextract takes no -march/-include (dpdk.h includes rte_config.h itself).
read -r -a include_dirs <<< "$(pkg-config --cflags-only-I libdpdk)"

# Libraries each header class loads (sonames of DPDK 22.11, ABI 23).
libraries_of() {
  case "$1" in
    Eal) echo ":librte_eal.so.23" ;;
    Ethdev) echo ":librte_ethdev.so.23" ;;
    Mbuf) echo ":librte_mempool.so.23 :librte_mbuf.so.23" ;;
    *) echo "regenerate.sh: unknown header class '$1' in includes.txt" >&2; exit 1 ;;
  esac
}

classes=$(grep -Ev '^[[:space:]]*(#|$)' "$gen_dir/includes.txt" | awk '{print $1}' | sort -u)

rm -rf "$out_dir"
for cls in $classes; do
  args=()
  while read -r c kind name rest; do
    [ "$c" = "$cls" ] || continue
    if [ -z "$name" ] || [ -n "$rest" ]; then
      echo "regenerate.sh: bad line in includes.txt: $c $kind $name $rest" >&2; exit 1
    fi
    args+=("--include-$kind" "$name")
  done < <(grep -Ev '^[[:space:]]*(#|$)' "$gen_dir/includes.txt")
  lib_args=()
  for lib in $(libraries_of "$cls"); do lib_args+=(--library "$lib"); done
  echo "jextract: $cls (${#args[@]} args, ${lib_args[*]})"
  jextract "${include_dirs[@]}" --output "$src_dir" --target-package "$package" \
    --header-class-name "$cls" "${lib_args[@]}" "${args[@]}" "$gen_dir/dpdk.h"
done

# The C shim (native/dpdk/bypass_dpdk_shim.h) is bound into its own package without a
# --library: the backend extracts libbypass_dpdk.so from the jar and System.load()s it, and
# jextract's default lookup (SymbolLookup.loaderLookup()) then finds its symbols.
shim_header="$module_dir/../native/dpdk/bypass_dpdk_shim.h"
shim_args=()
for fn in $(grep -Eo '^[a-z0-9_]+ +\**bypass_dpdk_[a-z_]+|bypass_dpdk_[a-z_]+\(' "$shim_header" | grep -Eo 'bypass_dpdk_[a-z_]+' | sort -u); do
  shim_args+=(--include-function "$fn")
done
echo "jextract: Shim (${#shim_args[@]} functions from $shim_header)"
jextract --output "$src_dir" --target-package "$package.shim" --header-class-name Shim "${shim_args[@]}" "$shim_header"

{ jextract --version 2>&1; echo "DPDK $dpdk_version"; } | sed 's/^/# /' > "$gen_dir/jextract.version"
echo "generated $(find "$out_dir" -name '*.java' | wc -l) files in $out_dir"
