#!/usr/bin/env bash
# Regenerates the jextract bindings of the ef_vi backend from the shim's header
# native/efvi/bypass_efvi_shim.h and includes.txt into
# ffm-efvi/src/main/java/io/bypass/efvi/internal/gen. Never edit the generated files by hand:
# change includes.txt (or the shim header) and run this script again, then commit both.
#
# Needs a jextract whose output targets the JDK 22 FFM API on PATH (or JEXTRACT=path), e.g.
#   export PATH=/work/tools/jextract/bin:$PATH
# No Onload is needed: the shim's header includes nothing of ef_vi.
# The bindings name no library: EfviNative System.load()s the shim extracted from the jar
# first, and the generated code finds its symbols through the class loader's lookup.
set -euo pipefail

gen_dir=$(cd "$(dirname "$0")" && pwd)
module_dir=$(dirname "$gen_dir")
repo_dir=$(dirname "$module_dir")
src_dir="$module_dir/src/main/java"
package=io.bypass.efvi.internal.gen
out_dir="$src_dir/${package//.//}"
jextract=${JEXTRACT:-jextract}

if ! command -v "$jextract" >/dev/null 2>&1; then
  echo "regenerate.sh: '$jextract' is not on PATH." >&2
  echo "  Build jextract (openjdk/jextract, JDK 22 API) and add its bin/ directory to PATH," >&2
  echo "  e.g. export PATH=/work/tools/jextract/bin:\$PATH" >&2
  exit 1
fi

args=()
while read -r kind name rest; do
  if [ -z "$name" ] || [ -n "$rest" ]; then
    echo "regenerate.sh: bad line in includes.txt: $kind $name $rest" >&2; exit 1
  fi
  args+=("--include-$kind" "$name")
done < <(grep -Ev '^[[:space:]]*(#|$)' "$gen_dir/includes.txt")

rm -rf "$out_dir"
"$jextract" --output "$src_dir" --target-package "$package" --header-class-name EfviShim \
  "${args[@]}" "$repo_dir/native/efvi/bypass_efvi_shim.h"

"$jextract" --version 2>&1 | sed 's/^/# /' > "$gen_dir/jextract.version"
echo "generated $(find "$out_dir" -name '*.java' | wc -l) files in $out_dir"
