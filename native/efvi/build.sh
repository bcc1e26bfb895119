#!/bin/sh
# Builds Bypass's ef_vi native code; run by Maven (ffm-efvi/pom.xml, exec-maven-plugin).
#   build.sh shim OUT_SO        the shim for the jar: against Onload's headers when
#                               $ONLOAD_INCLUDE/etherfabric/ef_vi.h exists (default
#                               /usr/include), else against native/efvi/include/bypass_efvi_api.h
#   (extra compiler flags, e.g. sanitizers: BYPASS_EFVI_CFLAGS)
#   build.sh test OUT_DIR       test artifacts (never in the jar): the software stand-in
#                               libbypass_ciul_standin.so, and the shim compiled against our own
#                               header, libbypass_efvi_ownhdr.so (proves it compiles that way)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}
flags="-O2 -g -std=gnu11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=default ${BYPASS_EFVI_CFLAGS:-}"
onload_include=${ONLOAD_INCLUDE:-/usr/include}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "bypass-efvi: no C compiler '$cc'; install one: apt-get install -y gcc (or set CC)" >&2
  exit 1
fi
case "$1" in
shim)
  mkdir -p "$(dirname "$2")"
  if [ -f "$onload_include/etherfabric/ef_vi.h" ]; then
    echo "bypass-efvi: compiling the shim against ONLOAD's headers in $onload_include/etherfabric (drives libciul.so.1)"
    $cc $flags -DBYPASS_EFVI_REAL_HEADERS -I"$onload_include" -I"$here" "$here/bypass_efvi_shim.c" "$here/bypass_efvi_warmup.c" -o "$2" -ldl
  else
    echo "bypass-efvi: compiling the shim against Bypass's own header native/efvi/include/bypass_efvi_api.h" \
         "($onload_include/etherfabric/ef_vi.h not found): this shim drives only the software stand-in;" \
         "rebuild on a host with Onload installed to drive a Solarflare NIC"
    $cc $flags -I"$here/include" -I"$here" "$here/bypass_efvi_shim.c" "$here/bypass_efvi_warmup.c" -o "$2" -ldl
  fi
  ;;
test)
  mkdir -p "$2"
  echo "bypass-efvi: compiling the software libciul stand-in and the shim against Bypass's own header (test only) into $2"
  $cc $flags -I"$here/include" "$here"/standin/*.c -o "$2/libbypass_ciul_standin.so" -lpthread
  $cc $flags -I"$here/include" -I"$here" "$here/bypass_efvi_shim.c" "$here/bypass_efvi_warmup.c" -o "$2/libbypass_efvi_ownhdr.so" -ldl
  ;;
*)
  echo "usage: build.sh shim OUT_SO | build.sh test OUT_DIR" >&2
  exit 2
  ;;
esac
