#!/usr/bin/env bash
# Regenerates the jextract bindings of the AF_XDP backend from afxdp.h and includes.txt into
# ffm-afxdp/src/main/java/io/bypass/afxdp/internal/gen. Never edit the generated files by hand:
# change includes.txt (or afxdp.h) and run this script again, then commit both.
#
# Needs: a jextract whose output targets the JDK 22 FFM API on PATH (see the team notes for how
# it is built), and the headers of libbpf-dev, libxdp-dev and linux-libc-dev.
set -euo pipefail

gen_dir=$(cd "$(dirname "$0")" && pwd)
module_dir=$(dirname "$gen_dir")
src_dir="$module_dir/src/main/java"
package=io.bypass.afxdp.internal.gen
out_dir="$src_dir/${package//.//}"

if ! command -v jextract >/dev/null 2>&1; then
  echo "regenerate.sh: 'jextract' is not on PATH." >&2
  echo "  Build jextract (openjdk/jextract, JDK 22 API) and add its bin/ directory to PATH," >&2
  echo "  e.g. export PATH=/work/tools/jextract/bin:\$PATH" >&2
  exit 1
fi
for h in linux/if_xdp.h bpf/libbpf.h xdp/libxdp.h; do
  if [ ! -f "/usr/include/$h" ]; then
    echo "regenerate.sh: /usr/include/$h missing: apt-get install linux-libc-dev libbpf-dev libxdp-dev" >&2
    exit 1
  fi
done

# Library each header class loads; Sys has none (libc is in the linker's default lookup).
library_of() {
  case "$1" in
    Sys) ;;
    Libbpf) echo ":libbpf.so.1" ;;
    Libxdp) echo ":libxdp.so.1" ;;
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
  lib=$(library_of "$cls")
  lib_args=()
  [ -n "$lib" ] && lib_args=(--library "$lib")
  echo "jextract: $cls (${#args[@]} args${lib:+, library $lib})"
  jextract --output "$src_dir" --target-package "$package" --header-class-name "$cls" \
    "${lib_args[@]}" "${args[@]}" "$gen_dir/afxdp.h"
done

jextract --version 2>&1 | sed 's/^/# /' > "$gen_dir/jextract.version"
echo "generated $(find "$out_dir" -name '*.java' | wc -l) files in $out_dir"
