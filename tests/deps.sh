#!/bin/sh
# Install the Debian packages a make target needs, on a fresh machine, without starting their
# daemons on the host (policy-rc.d answers 101 "action forbidden" to every service start).
# Usage: tests/deps.sh PACKAGE...   Installs only what is missing; prints a loud SKIP line and
# returns 0 when it cannot install (not root, no apt-get), so the tests that need a missing
# package skip loudly themselves.
set -eu
missing=""
for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "SKIP: cannot install$missing (need root and apt-get); tests that need them will skip"
    exit 0
fi
echo "installing$missing"
policy=/usr/sbin/policy-rc.d
created=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && created=1
fi
trap '[ -n "$created" ] && rm -f "$policy"' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
