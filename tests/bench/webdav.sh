#!/usr/bin/env bash
# Benchmark `bosun webdav` against Debian's Apache mod_dav (both with Digest auth) on loopback,
# same files, same run: GET of 100 MiB, GET of 10,000 files of 4 KiB (one curl, one kept-alive
# connection), PUT of 100 MiB, PROPFIND Depth 1 on directories of 5,000 and 100,000 files (with
# each server's peak RSS). Best of $ROUNDS runs each. Apache is configured for speed as well:
# EnableSendfile and EnableMMAP on, event MPM, no access log. Targets (issue 20): GET >= 1.3x
# Apache on 100 MiB and >= 1x on the 4 KiB files, PUT >= 1.5x, PROPFIND <= half Apache's time.
#
# Needs: curl, apache2 (Debian: apt-get install apache2 apache2-utils), a release build
# (cargo build --release). Run as root or as a user that can start apache2 on a high port.
set -euo pipefail

BOSUN=${BOSUN:-target/release/bosun}
ROUNDS=${ROUNDS:-5}
BOSUN_PORT=${BOSUN_PORT:-18181}
APACHE_PORT=${APACHE_PORT:-18182}
MODULES=${APACHE_MODULES:-/usr/lib/apache2/modules}
REALM=bench
USER_NAME=bench
PASSWORD=bench

command -v curl >/dev/null || { echo "SKIP: curl not installed"; exit 0; }
command -v apache2 >/dev/null || [ -x /usr/sbin/apache2 ] || { echo "SKIP: apache2 not installed (apt-get install apache2 apache2-utils)"; exit 0; }
[ -x "$BOSUN" ] || { echo "build first: cargo build --release ($BOSUN missing)"; exit 1; }

WORK=$(mktemp -d)
BOSUN_PID=""
cleanup() {
    [ -n "$BOSUN_PID" ] && kill "$BOSUN_PID" 2>/dev/null || true
    [ -f "$WORK/apache.pid" ] && kill "$(cat "$WORK/apache.pid")" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

HA1=$(printf '%s' "$USER_NAME:$REALM:$PASSWORD" | md5sum | cut -d' ' -f1)
printf '%s:%s:%s\n' "$USER_NAME" "$REALM" "$HA1" > "$WORK/htdigest"
chmod 644 "$WORK/htdigest"

for server in bosun apache; do
    mkdir -p "$WORK/$server/many" "$WORK/$server/huge" "$WORK/$server/small"
    head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/$server/big.bin"
    (cd "$WORK/$server/many" && seq 1 5000 | xargs -n 500 touch)
    (cd "$WORK/$server/huge" && seq -f 'file-%06g' 1 100000 | xargs -n 1000 touch)
    head -c $((10000 * 4096)) /dev/urandom | split -a 5 -d -b 4096 - "$WORK/$server/small/f"
done
# One curl for all 10,000 small files: a config file of url/output pairs per server.
for port in "$BOSUN_PORT" "$APACHE_PORT"; do
    for f in $(ls "$WORK/bosun/small"); do
        printf 'url = "http://127.0.0.1:%s/webdav/small/%s"\noutput = "/dev/null"\n' "$port" "$f"
    done > "$WORK/small-$port.curl"
done
head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/upload.bin"

"$BOSUN" webdav --root "$WORK/bosun" --listen "127.0.0.1:$BOSUN_PORT" --realm "$REALM" \
    --htdigest "$WORK/htdigest" 2>"$WORK/bosun.log" &
BOSUN_PID=$!

APACHE_USER=$(id -un)
if [ "$(id -u)" = 0 ]; then
    APACHE_USER=www-data
    chown -R www-data "$WORK/apache"
    chmod 755 "$WORK"
fi
cat > "$WORK/apache.conf" <<CONF
ServerRoot "$WORK"
ServerName localhost
Listen 127.0.0.1:$APACHE_PORT
PidFile "$WORK/apache.pid"
ErrorLog "$WORK/apache-error.log"
User $APACHE_USER
EnableSendfile On
EnableMMAP On
LogLevel warn
LoadModule mpm_event_module $MODULES/mod_mpm_event.so
LoadModule authn_core_module $MODULES/mod_authn_core.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule authn_file_module $MODULES/mod_authn_file.so
LoadModule authz_user_module $MODULES/mod_authz_user.so
LoadModule auth_digest_module $MODULES/mod_auth_digest.so
LoadModule alias_module $MODULES/mod_alias.so
LoadModule dav_module $MODULES/mod_dav.so
LoadModule dav_fs_module $MODULES/mod_dav_fs.so
DavLockDB "$WORK/DavLock"
Alias /webdav/ "$WORK/apache/"
<Directory "$WORK/apache">
    Dav On
    AuthType Digest
    AuthName "$REALM"
    AuthDigestDomain /webdav/
    AuthDigestProvider file
    AuthUserFile "$WORK/htdigest"
    Require valid-user
</Directory>
CONF
apache2 -f "$WORK/apache.conf" -k start 2>/dev/null || /usr/sbin/apache2 -f "$WORK/apache.conf" -k start

for port in "$BOSUN_PORT" "$APACHE_PORT"; do
    for _ in $(seq 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && break
        sleep 0.1
    done
done

# Best (lowest) time of $ROUNDS runs of curl with the given arguments.
best() {
    local best_time="" t
    for _ in $(seq "$ROUNDS"); do
        t=$(curl -s --digest -u "$USER_NAME:$PASSWORD" -o /dev/null -w '%{time_total}' "$@")
        if [ -z "$best_time" ] || awk "BEGIN{exit !($t < $best_time)}"; then best_time=$t; fi
    done
    echo "$best_time"
}

# Best wall-clock time of $ROUNDS runs of one curl fetching many URLs (-K config file).
best_all() {
    local best_time="" t start end
    for _ in $(seq "$ROUNDS"); do
        start=$(date +%s.%N)
        curl -s --digest -u "$USER_NAME:$PASSWORD" "$@" >/dev/null
        end=$(date +%s.%N)
        t=$(awk "BEGIN{printf \"%.6f\", $end - $start}")
        if [ -z "$best_time" ] || awk "BEGIN{exit !($t < $best_time)}"; then best_time=$t; fi
    done
    echo "$best_time"
}

# Peak resident memory (VmHWM, KiB) of a process.
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

printf '%-28s %12s %12s %8s %16s\n' "operation" "bosun (s)" "apache (s)" "ratio" "bosun peak RSS"
row() {
    local name=$1 b=$2 a=$3
    printf '%-28s %12s %12s %8s %12s KiB\n' "$name" "$b" "$a" "$(awk "BEGIN{printf \"%.2f\", $a / $b}")" "$(hwm "$BOSUN_PID")"
}
row "GET 100 MiB" \
    "$(best "http://127.0.0.1:$BOSUN_PORT/webdav/big.bin")" \
    "$(best "http://127.0.0.1:$APACHE_PORT/webdav/big.bin")"
row "GET 10,000 x 4 KiB" \
    "$(best_all -K "$WORK/small-$BOSUN_PORT.curl")" \
    "$(best_all -K "$WORK/small-$APACHE_PORT.curl")"
row "PUT 100 MiB" \
    "$(best -T "$WORK/upload.bin" "http://127.0.0.1:$BOSUN_PORT/webdav/up.bin")" \
    "$(best -T "$WORK/upload.bin" "http://127.0.0.1:$APACHE_PORT/webdav/up.bin")"
row "PROPFIND Depth 1 (5000)" \
    "$(best -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:$BOSUN_PORT/webdav/many/")" \
    "$(best -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:$APACHE_PORT/webdav/many/")"
row "PROPFIND Depth 1 (100000)" \
    "$(best -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:$BOSUN_PORT/webdav/huge/")" \
    "$(best -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:$APACHE_PORT/webdav/huge/")"
echo "ratio = apache time / bosun time (above 1: bosun faster)"
echo "bosun peak RSS: VmHWM of its one process after each row (it only grows)"
# Apache's peak over the whole run: its largest child (the workers that answered) and parent.
apache_parent=$(cat "$WORK/apache.pid")
apache_max=0
for pid in $(pgrep -P "$apache_parent"); do
    h=$(hwm "$pid")
    [ "$h" -gt "$apache_max" ] && apache_max=$h
done
echo "peak RSS: bosun $(hwm "$BOSUN_PID") KiB; apache parent $(hwm "$apache_parent") KiB, largest child $apache_max KiB"
