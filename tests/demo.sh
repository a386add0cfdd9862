#!/bin/sh
# `make demo`: run the given bosun binary as PID 1 of fresh PID and mount namespaces, with a
# main command that starts background work, shows the process table, and waits. Ctrl-C (or
# SIGTERM) ends it: bosun stops everything in order and exits.
set -eu
bosun=$(realpath "$1")
userns=""
[ "$(id -u)" = 0 ] || userns="--user --map-root-user"
cat <<'MSG'
== bosun demo: bosun is PID 1 of a fresh PID namespace ==
The main command starts two background workers (one of them an orphan) and then sleeps.
Press Ctrl-C to stop: bosun forwards it, sends SIGTERM to the workers, and exits.
MSG
# shellcheck disable=SC2086
exec unshare $userns --pid --fork --mount-proc --kill-child \
    "$bosun" -v -e 130 -e 143 -- sh -c '
        trap "echo \"worker: got SIGTERM, cleaning up\"; exit 0" TERM
        ( sh -c "trap \"echo orphan: got SIGTERM, cleaning up; exit 0\" TERM; while :; do sleep 1; done" & )
        ( while :; do sleep 1; done ) &
        sleep 0.2
        ps -o pid,ppid,pgid,stat,comm -e
        echo "main: waiting (Ctrl-C to stop)"
        sleep infinity & wait $!'
