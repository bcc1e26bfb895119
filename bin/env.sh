# Sourced by every Bypass script: finds a JDK >= 22 (FFM is final there) and exports JAVA_HOME.
# Order: $BYPASS_JAVA_HOME, $JAVA_HOME, java on PATH, then /usr/lib/jvm/*.
bypass_java_version() { # prints the feature version of $1/bin/java, or nothing
  [ -x "$1/bin/java" ] || return 0
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1
}
bypass_find_jdk() {
  local c v
  for c in "${BYPASS_JAVA_HOME:-}" "${JAVA_HOME:-}" \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")" \
           $(ls -d /usr/lib/jvm/* 2>/dev/null | sort -rV); do
    [ -n "$c" ] || continue
    v=$(bypass_java_version "$c")
    if [ -n "$v" ] && [ "$v" -ge 22 ] && [ -x "$c/bin/javac" ]; then echo "$c"; return 0; fi
  done
  return 1
}
if ! BYPASS_JDK=$(bypass_find_jdk); then
  echo "bypass: no JDK 22 or newer found (FFM needs 22+). Install one, e.g. 'apt-get install openjdk-25-jdk'" >&2
  echo "        or a Temurin JDK under /usr/lib/jvm, or set BYPASS_JAVA_HOME." >&2
  return 1 2>/dev/null || exit 1
fi
export JAVA_HOME="$BYPASS_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
