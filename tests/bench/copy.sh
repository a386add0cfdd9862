#!/bin/sh
# Seeding benchmark: `bosun image seed` against `cp -a` and `rsync -a` of the same template, on
# the same filesystem, in the same run, interleaved. Prints a markdown table (seconds): wall
# time including the sync, and the tool's own CPU time (steadier on a shared disk).
#
#   tests/bench/copy.sh [RUNS]        (default 3 runs; needs python3; rsync if installed)
#
# Environment: BOSUN (binary; default: cargo build --release, target/release/bosun),
# BENCH_SETTLE (seconds of rest before each timed run; 3), BENCH_DROP_CACHES (0),
# BENCH_DIR (scratch dir on the filesystem to measure; default /var/tmp/bosun-bench),
# BENCH_FILES (20000), BENCH_BYTES (1073741824).
#
# Every command is timed together with a following `sync`, because `bosun image seed` ends with
# syncfs (the state file must only say "seeded" once the data is on disk) and `cp`/`rsync` do
# not. By default the source tree is warm in the page cache for every tool alike; with
# BENCH_DROP_CACHES=1 (root, and /proc/sys/vm/drop_caches writable: it affects the whole
# machine) caches are dropped before each timed run, so every tool reads a cold source.
set -eu

RUNS=${1:-3}
DIR=${BENCH_DIR:-/var/tmp/bosun-bench}
FILES=${BENCH_FILES:-20000}
BYTES=${BENCH_BYTES:-1073741824}
HERE=$(cd "$(dirname "$0")/../.." && pwd)

if [ -z "${BOSUN:-}" ]; then
    (cd "$HERE" && cargo build --release --quiet)
    BOSUN="$HERE/target/release/bosun"
fi

ROOT="$DIR/root"
rm -rf "$DIR"
mkdir -p "$ROOT/srv" "$ROOT/etc"

# The template: FILES files in 200 directories; 20 large files hold half the bytes, the rest
# are small files of random sizes (the mix a real /var/lib has).
python3 - "$ROOT/srv/app" "$FILES" "$BYTES" <<'EOF'
import os, random, sys
root, files, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(42)
block = os.urandom(1 << 20)
def write(path, size):
    with open(path, "wb") as f:
        while size > 0:
            n = min(size, len(block))
            f.write(block[:n])
            size -= n
big = 20
big_size = total // 2 // big
small = files - big
small_budget = total - big * big_size
sizes = [random.random() for _ in range(small)]
scale = small_budget / sum(sizes)
for i in range(files):
    d = os.path.join(root, f"dir{i % 200:03d}")
    os.makedirs(d, exist_ok=True)
    size = big_size if i < big else int(sizes[i - big] * scale)
    write(os.path.join(d, f"file {i}"), size)
EOF
echo /srv/app > "$DIR/list"
"$BOSUN" image prepare --root "$ROOT" --build-id bench "$DIR/list" 2>/dev/null
TEMPLATE="$ROOT/data-template"
echo "template: $(find "$TEMPLATE/srv" -type f | wc -l) files, $(du -sh "$TEMPLATE/srv" | cut -f1)," \
     "filesystem $(stat -f -c %T "$DIR"), $(nproc) cores, $RUNS runs" >&2

now() { date +%s.%N; }
# time_it COMMAND...: fresh destination, rest, run, sync; print "WALL CPU" in seconds, where
# WALL includes the final sync and CPU is the command's user+system time (what the tool itself
# spends; writeback by the kernel's flusher threads is not in it).
time_it() {
    rm -rf "$ROOT/data" "$DIR/dst"
    mkdir "$ROOT/data"
    sync
    if [ "${BENCH_DROP_CACHES:-0}" = 1 ]; then echo 3 > /proc/sys/vm/drop_caches; fi
    # Let the deletion's discards and writeback settle, so one tool does not pay for the last.
    sleep "${BENCH_SETTLE:-3}"
    start=$(now)
    /usr/bin/time -f "%U %S" -o "$DIR/cpu" "$@" >/dev/null 2>&1
    sync
    end=$(now)
    echo "$end $start $(cat "$DIR/cpu")" | awk '{ printf "%.2f %.2f", $1 - $2, $3 + $4 }'
}

TOOLS="bosun cp"
command -v rsync >/dev/null && TOOLS="$TOOLS rsync" || echo "rsync not installed: skipped" >&2
RESULTS="$DIR/results"
: > "$RESULTS"
i=1
while [ "$i" -le "$RUNS" ]; do
    # Rotate the order every run: no tool always goes first (or last).
    order=$(echo $TOOLS | awk -v r="$i" '{ n = NF; for (k = 0; k < n; k++) printf "%s ", $(((k + r - 1) % n) + 1) }')
    for tool in $order; do
        case $tool in
            bosun) t=$(time_it "$BOSUN" image seed --root "$ROOT") ;;
            cp) t=$(time_it cp -a "$TEMPLATE" "$DIR/dst") ;;
            rsync) t=$(time_it rsync -aHAX "$TEMPLATE/" "$DIR/dst/") ;;
        esac
        echo "$tool $t" >> "$RESULTS"
        echo "run $i: $tool wall/cpu ${t}" >&2
    done
    i=$((i + 1))
done

echo
echo "| tool | command | wall (s), each run | wall median (s) | CPU user+sys (s), each run | CPU median (s) |"
echo "|---|---|---|---|---|---|"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
for tool in $TOOLS; do
    case $tool in
        bosun) cmd='`bosun image seed` (+ its syncfs)' ;;
        cp) cmd='`cp -a` + `sync`' ;;
        rsync) cmd='`rsync -aHAX` + `sync`' ;;
    esac
    walls=$(awk -v t="$tool" '$1 == t { print $2 }' "$RESULTS")
    cpus=$(awk -v t="$tool" '$1 == t { print $3 }' "$RESULTS")
    echo "| $tool | $cmd | $(echo $walls) | $(echo "$walls" | median) | $(echo $cpus) | $(echo "$cpus" | median) |"
done
rm -rf "$DIR"
