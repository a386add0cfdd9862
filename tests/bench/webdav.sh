#!/usr/bin/env bash
# Benchmark `bosun webdav` against Debian's Apache mod_dav (both with Digest auth) on loopback,
# same files, same run: GET of 100 MiB, GET of 10,000 files of 4 KiB (one curl, one kept-alive
# connection), PUT of 100 MiB, PROPFIND Depth 1 on directories of 5,000 and 100,000 files (with
# each server's peak RSS). $ROUNDS runs per server and row ($SHORT_ROUNDS for the rows under a
# second), the servers alternating; best and median of each. Apache is configured for speed too:
# EnableSendfile and EnableMMAP on, event MPM, no access log. Targets (issue 20): GET >= 1.3x
# Apache on 100 MiB and >= 1x on the 4 KiB files, PUT >= 1.5x, PROPFIND <= half Apache's time.
#
# Needs: curl, apache2 (Debian: apt-get install apache2 apache2-utils), a release build
# (cargo build --release). Run as root or as a user that can start apache2 on a high port.
set -euo pipefail

BOSUN=${BOSUN:-target/release/bosun}
ROUNDS=${ROUNDS:-5}
# The rows of under a second are run more often: their spread is wider.
SHORT_ROUNDS=${SHORT_ROUNDS:-$((ROUNDS * 4))}
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

# One timed run of curl against PORT: the arguments' "@PORT@" is replaced by the port. "one"
# times the transfer as curl does (time_total), "all" (one curl, many URLs) by the wall clock.
run() {
    local mode=$1 port=$2 start end
    shift 2
    local args=("${@//@PORT@/$port}")
    if [ "$mode" = one ]; then
        curl -s --digest -u "$USER_NAME:$PASSWORD" -o /dev/null -w '%{time_total}' "${args[@]}"
    else
        start=$(date +%s.%N)
        curl -s --digest -u "$USER_NAME:$PASSWORD" "${args[@]}" >/dev/null
        end=$(date +%s.%N)
        awk "BEGIN{printf \"%.6f\", $end - $start}"
    fi
}

# Best, median and worst of a list of times (one a line).
stats() { sort -n | awk '{t[NR]=$1} END{m=(NR%2)?t[(NR+1)/2]:(t[NR/2]+t[NR/2+1])/2; printf "%.4f %.4f %.4f\n", t[1], m, t[NR]}'; }

# The row NAME: ROUNDS runs against each server, the two servers alternating (and which goes
# first alternating too) so that a change in the machine's load falls on both alike. Prints
# best, median and worst of each, and the ratios of the bests and of the medians (apache /
# bosun: above 1, bosun is faster).
row() {
    local name=$1 rounds=$2 mode=$3 i b a
    shift 3
    : >"$WORK/t-bosun"
    : >"$WORK/t-apache"
    for i in $(seq "$rounds"); do
        if [ $((i % 2)) = 1 ]; then
            run "$mode" "$BOSUN_PORT" "$@" >>"$WORK/t-bosun"; echo >>"$WORK/t-bosun"
            run "$mode" "$APACHE_PORT" "$@" >>"$WORK/t-apache"; echo >>"$WORK/t-apache"
        else
            run "$mode" "$APACHE_PORT" "$@" >>"$WORK/t-apache"; echo >>"$WORK/t-apache"
            run "$mode" "$BOSUN_PORT" "$@" >>"$WORK/t-bosun"; echo >>"$WORK/t-bosun"
        fi
    done
    read -r b_best b_med b_worst < <(stats <"$WORK/t-bosun")
    read -r a_best a_med a_worst < <(stats <"$WORK/t-apache")
    printf '%-25s %2s %7s %7s %7s  %7s %7s %7s %5s %5s %6s KiB\n' "$name" "$rounds" \
        "$b_best" "$b_med" "$b_worst" "$a_best" "$a_med" "$a_worst" \
        "$(awk "BEGIN{printf \"%.2f\", $a_best / $b_best}")" \
        "$(awk "BEGIN{printf \"%.2f\", $a_med / $b_med}")" "$(hwm "$BOSUN_PID")"
}

# Peak resident memory (VmHWM, KiB) of a process.
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# CPU time (user + system, ms) used so far by the given processes (all their threads).
cpu_ms() {
    local total=0 p
    for p in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo $((total * 1000 / $(getconf CLK_TCK)))
}

# Where the time of a 100 MiB GET goes: CPU per GET of the server and of curl (receiving
# 100 MiB from a socket costs the receiver a copy that no server can take off it).
get_cpu() {
    local port=$1 n=$2
    shift 2
    local before after client
    before=$(cpu_ms "$@")
    client=$( (for _ in $(seq "$n"); do
        curl -s --digest -u "$USER_NAME:$PASSWORD" -o /dev/null "http://127.0.0.1:$port/webdav/big.bin"
    done; times) | tail -1 | awk '{
        split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1000 }')
    after=$(cpu_ms "$@")
    echo "$(((after - before) / n)) $((client / n))"
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs"
printf '%-25s %2s %7s %7s %7s  %7s %7s %7s %5s %5s %10s\n' "operation (seconds)" "n" \
    "bosun" "median" "worst" "apache" "median" "worst" "ratio" "r.med" "bosun RSS"
row "GET 100 MiB" "$SHORT_ROUNDS" one "http://127.0.0.1:@PORT@/webdav/big.bin"
row "GET 10,000 x 4 KiB" "$ROUNDS" all -K "$WORK/small-@PORT@.curl"
row "PUT 100 MiB" "$SHORT_ROUNDS" one -T "$WORK/upload.bin" "http://127.0.0.1:@PORT@/webdav/up.bin"
row "PROPFIND Depth 1 (5000)" "$SHORT_ROUNDS" one -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:@PORT@/webdav/many/"
row "PROPFIND Depth 1 (100000)" "$ROUNDS" one -X PROPFIND -H 'Depth: 1' "http://127.0.0.1:@PORT@/webdav/huge/"
echo "n = runs per server; best, median and worst of them; ratio = apache time / bosun time"
echo "of the best runs, r.med of the medians (above 1: bosun faster)"
read -r b_srv b_cli < <(get_cpu "$BOSUN_PORT" "$SHORT_ROUNDS" "$BOSUN_PID")
# shellcheck disable=SC2046 # one argument per worker
read -r a_srv a_cli < <(get_cpu "$APACHE_PORT" "$SHORT_ROUNDS" $(pgrep -P "$(cat "$WORK/apache.pid")"))
echo "GET 100 MiB, CPU per GET over $SHORT_ROUNDS GETs (ms): bosun $b_srv, curl receiving from it $b_cli;" \
    "apache $a_srv, curl receiving from it $a_cli"
echo "bosun peak RSS: VmHWM of its one process after each row (it only grows)"
# Apache's peak over the whole run: its largest child (the workers that answered) and parent.
apache_parent=$(cat "$WORK/apache.pid")
apache_max=0
for pid in $(pgrep -P "$apache_parent"); do
    h=$(hwm "$pid")
    [ "$h" -gt "$apache_max" ] && apache_max=$h
done
echo "peak RSS: bosun $(hwm "$BOSUN_PID") KiB; apache parent $(hwm "$apache_parent") KiB, largest child $apache_max KiB"
