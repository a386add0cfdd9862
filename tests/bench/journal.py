#!/usr/bin/python3
"""Journal ingestion at one core: datagrams flooded into /dev/log (syslog lines) and into
/run/systemd/journal/socket (the native protocol, when served), stored by bosun as PID 1
beside systemd 252's journald, in the same container namespaces over the issue-19 corpus root
(rootfs.py), runs interleaved.

Usage: tests/bench/journal.py BOSUN_STATIC_BINARY > section.md
  (BENCH_JOURNAL_RUNS, default 3; BENCH_JOURNAL_CLIENTS, default 20)
Prints a Markdown section. Needs root and two cores. Nothing here is pass/fail.

The receiver is pinned to CPU 0 (`taskset -c 0` on bosun as PID 1, whose children inherit it;
on systemd-journald), the clients to CPU 1. Each client is one process (a small C program,
built with cc) with one connected datagram socket, to /dev/log or to the native socket, that
sends 10,000 datagrams of 100 bytes (RFC 3164 lines as syslog(3) writes them,
`<14>TIMESTAMP IDENT[PID]: text`; or native `SYSLOG_IDENTIFIER=`/`PRIORITY=`/`MESSAGE=`
fields), blocking when the receiver's queue is full, so what the clients send is what the
receiver read. The datagram queue of the network namespace is 10 (a new namespace's default)
or 512 (systemd's sysctl.d/50-default.conf). All clients are started and connected first;
the clock runs from the moment they are let go until the last one's last send has returned;
then the lines stored are counted from the store (bosun: `initctl logs -n all UNIT`; journald:
`journalctl -o cat`). Rate = lines stored / that time.

bosun keeps journald's per-unit rate limit (RateLimitBurst=10000 in RateLimitIntervalSec=30s;
`LogRateLimitIntervalSec=` is not supported yet), so each client runs as a unit of its own
(`flood@N.service`) and sends exactly one burst: nothing is dropped by the limit, and the
count shows it. journald runs standalone (not under systemd, which is not PID 1 there) with
its own sockets, `Storage=volatile` (in memory on /run, as bosun's rings), `ReadKMsg=no` (no
/dev/kmsg in the container) and `RateLimitIntervalSec=0`, its clients started by a shell.
"""
import os, platform, shutil, signal, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402

BOSUN = os.path.realpath(sys.argv[1])
RUNS = int(os.environ.get("BENCH_JOURNAL_RUNS", "3"))
CLIENTS = int(os.environ.get("BENCH_JOURNAL_CLIENTS", "20"))
# The datagram queue: a new network namespace's default (a container's), and the 512 that
# systemd's sysctl.d/50-default.conf sets on a systemd host.
QUEUES = (10, 512)
# The datagram sockets: syslog lines to /dev/log, and journald's native protocol (KEY=VALUE
# lines: SYSLOG_IDENTIFIER=, PRIORITY=, MESSAGE=) to /run/systemd/journal/socket.
PROTOCOLS = ("syslog", "native")
SOCKETS = {"syslog": "`/dev/log`", "native": "`/run/systemd/journal/socket` (native)"}
LINES = 10_000  # one burst of journald's (and bosun's) default rate limit per unit

# The client (C, built here with the machine's cc; run inside the container from /run/bench):
# connect, build every line, say ready, wait for the go (EOF on the FIFO), send them all, then
# write the time the last send returned. Python could not keep one core's receiver busy.
CLIENT = r"""#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#define WIDTH 100
int main(int argc, char **argv) {
    const char *ident = argv[1];
    int count = atoi(argv[2]);
    int native = argc > 3 && strcmp(argv[3], "native") == 0;
    int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strcpy(addr.sun_path, native ? "/run/systemd/journal/socket" : "/dev/log");
    if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) { perror(addr.sun_path); return 1; }
    char stamp[32], path[256];
    time_t now = time(NULL);
    strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", localtime(&now));
    char *lines = malloc((size_t)count * WIDTH);
    for (int i = 0; i < count; i++) {
        char *l = lines + (size_t)i * WIDTH;
        int n = native
            ? snprintf(l, WIDTH + 1, "SYSLOG_IDENTIFIER=%s\nPRIORITY=6\nMESSAGE=flood line %06d ", ident, i)
            : snprintf(l, WIDTH + 1, "<14>%s %s[%d]: flood line %06d ", stamp, ident, getpid(), i);
        memset(l + n, 'x', WIDTH - n - native);
        if (native) l[WIDTH - 1] = '\n';
    }
    int go = open("/run/bench/go", O_RDONLY);
    snprintf(path, sizeof path, "/run/bench/ready-%s", ident);
    close(open(path, O_WRONLY | O_CREAT, 0644));
    char c;
    if (go < 0 || read(go, &c, 1) != 0) { fprintf(stderr, "go: no EOF\n"); return 1; }
    for (int i = 0; i < count; i++)
        if (send(s, lines + (size_t)i * WIDTH, WIDTH, 0) != WIDTH) { perror("send"); return 1; }
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    char tmp[256];
    snprintf(tmp, sizeof tmp, "/run/bench/done-%s.tmp", ident);
    snprintf(path, sizeof path, "/run/bench/done-%s", ident);
    FILE *f = fopen(tmp, "w");
    fprintf(f, "%ld.%09ld", (long)t.tv_sec, t.tv_nsec);
    fclose(f);
    return rename(tmp, path);
}
"""


def build_client():
    """The client binary (static when the C library allows, else against the machine's glibc,
    which is bookworm's as the root's)."""
    source = os.path.join(rootfs.HOME, "flood-client.c")
    binary = os.path.join(rootfs.HOME, "flood-client")
    with open(source, "w") as f:
        f.write(CLIENT)
    for static in (["-static"], []):
        if subprocess.run(["cc", "-O2", *static, "-o", binary, source],
                          stderr=subprocess.DEVNULL).returncode == 0:
            return binary
    raise RuntimeError("cannot build the flood client with cc")


FLOOD_UNIT = """[Unit]
Description=syslog flood %i
DefaultDependencies=no
[Service]
ExecStart=/usr/bin/taskset -c 1 /run/bench/client flood%i {lines} {protocol}
"""

JOURNALD_CONF = """[Journal]
Storage=volatile
RuntimeMaxUse=2G
RuntimeMaxFileSize=256M
RateLimitIntervalSec=0
ReadKMsg=no
ForwardToSyslog=no
ForwardToWall=no
"""

# PID 1 of journald's container: journald on CPU 0 with its own sockets (and /dev/log linked
# to its syslog socket, as systemd-journald-dev-log.socket's Symlinks= does), then the clients.
JOURNALD_INIT = r'''#!/bin/sh
mkdir -p /etc/systemd/journald.conf.d
cp /run/bench/journald.conf /etc/systemd/journald.conf.d/bench.conf
ln -sf /run/systemd/journal/dev-log /dev/log
taskset -c 0 /lib/systemd/systemd-journald &
while [ ! -S /run/systemd/journal/dev-log ] || [ ! -S /run/systemd/journal/socket ]; do sleep 0.01; done
i=1
while [ $i -le {clients} ]; do
    taskset -c 1 /run/bench/client flood$i {lines} {protocol} &
    i=$((i+1))
done
exec sleep infinity
'''


def prepare(shared, files):
    for name, text in files.items():
        with open(os.path.join(shared, name), "w") as f:
            f.write(text)
    shutil.copy2(CLIENT_BINARY, os.path.join(shared, "client"))
    os.mkfifo(os.path.join(shared, "go"), 0o666)


def flood(boot):
    """Let the clients go once all are ready; seconds until the last send returned."""
    shared = boot.shared
    go = os.open(os.path.join(shared, "go"), os.O_RDWR)
    deadline = time.monotonic() + 120
    while sum(n.startswith("ready-") for n in os.listdir(shared)) < CLIENTS:
        if time.monotonic() > deadline or boot.proc.poll() is not None:
            raise RuntimeError(f"{boot.name}: the clients did not all start (see {boot.log})")
        time.sleep(0.01)
    t0 = time.time()
    os.close(go)
    done = []
    while len(done) < CLIENTS:
        if time.monotonic() > deadline + 300:
            raise RuntimeError(f"{boot.name}: the clients did not finish (see {boot.log})")
        time.sleep(0.05)
        done = [n for n in os.listdir(shared) if n.startswith("done-") and not n.endswith(".tmp")]
    last = max(float(open(os.path.join(shared, n)).read()) for n in done)
    return last - t0


def settled(count):
    """`count()` once it gives the same answer twice half a second apart: when the last send
    returned, the socket's queue may still hold lines not read."""
    last, now = None, count()
    while now != last:
        time.sleep(0.5)
        last, now = now, count()
    return now


def cpu_seconds(pid):
    return int(open(f"/proc/{pid}/schedstat").read().split()[0]) / 1e9


# Lines bosun stored under `unknown` (their sender had exited before they were read), per
# configuration and run.
UNATTRIBUTED = {}
# The queue length the receiver's sockets were made with, read in the container after it
# booted (bosun as PID 1 raises 10 to systemd's 512 in a network namespace of its own, as
# systemd-sysctl would), per configuration.
EFFECTIVE = {}


def queue(qlen):
    """The network namespace's datagram queue length (net.unix.max_dgram_qlen)."""
    return f"echo {qlen} > /proc/sys/net/unix/max_dgram_qlen; "


def bosun_run(qlen, protocol):
    units = "".join(f"Wants=flood@{i}.service\n" for i in range(1, CLIENTS + 1))
    setup = queue(qlen) + ('d="$r/etc/systemd/system"; cp /run/bench/flood@.service /run/bench/flood.target "$d/"; '
             'ln -sf flood.target "$d/default.target"').replace("/run/bench", "$BENCH_SHARED")
    files = {"flood@.service": FLOOD_UNIT.format(lines=LINES, protocol=protocol),
             "flood.target": f"[Unit]\nDescription=syslog flood\nDefaultDependencies=no\n{units}"}
    boot = rootfs.Boot("journal bosun", argv=["/usr/local/bin/bosun"], layers=[rootfs.BOSUN_LAYER],
                       env=["BOSUN_LOG_RING=4M", "BOSUN_LOG_RING_TOTAL=512M"], setup=setup,
                       wrap=["taskset", "-c", "0"], console=os.path.join(rootfs.HOME, "journal-bosun.out"),
                       prepare=lambda d: prepare(d, files))
    try:
        boot.wait_ready()
        if protocol == "native" and boot.run("test -S /run/systemd/journal/socket && echo yes").strip() != "yes":
            return None
        EFFECTIVE.setdefault(("bosun", protocol, qlen), set()).add(
            boot.run("cat /proc/sys/net/unix/max_dgram_qlen").strip())
        pid = boot.init_pid()
        before = cpu_seconds(pid)
        spent = flood(boot)
        cpu = cpu_seconds(pid) - before
        # Every unit's lines (`unknown` too: the sender had exited before its line was read).
        counts = settled(lambda: boot.run(
            "initctl logs -n all | grep 'flood line' | awk '{print $2}' | sed 's/\\[.*//' "
            "| sort | uniq -c", timeout=300))
        stored = unattributed = 0
        for line in counts.splitlines():
            n, unit = line.split()
            stored += int(n)
            if not unit.startswith("flood@"):
                unattributed += int(n)
        UNATTRIBUTED.setdefault(("bosun", protocol, qlen), []).append(unattributed)
        boot.stop(signal.SIGTERM)
        return spent, stored, cpu
    finally:
        boot.close()


def journald_run(qlen, protocol):
    files = {"journald.conf": JOURNALD_CONF,
             "init.sh": JOURNALD_INIT.format(clients=CLIENTS, lines=LINES, protocol=protocol)}
    boot = rootfs.Boot("journal journald", argv=["/bin/sh", "/run/bench/init.sh"], setup=queue(qlen),
                       console=os.path.join(rootfs.HOME, "journal-journald.out"),
                       prepare=lambda d: prepare(d, files))
    try:
        journald = host_journald(boot)
        EFFECTIVE.setdefault(("journald", protocol, qlen), set()).add(
            boot.run("cat /proc/sys/net/unix/max_dgram_qlen").strip())
        before = cpu_seconds(journald)
        spent = flood(boot)
        cpu = cpu_seconds(journald) - before
        stored = int(settled(lambda: boot.run(
            "journalctl -q --no-pager -D /run/log/journal -o cat | grep -c '^flood line' || true",
            timeout=300)).strip() or 0)
        boot.stop(signal.SIGKILL)
        return spent, stored, cpu
    finally:
        boot.close()


def host_journald(boot):
    """systemd-journald's pid as this machine sees it (a descendant of the container's init)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if open(f"/proc/{pid}/comm").read().strip() == "systemd-journal" and \
                            os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(
                                f"/proc/{boot.init_pid()}/ns/pid"):
                        return int(pid)
                except OSError:
                    pass
        time.sleep(0.05)
    raise RuntimeError("systemd-journald did not start (see " + boot.log + ")")


def main():
    rootfs.ensure_root()
    rootfs.make_bosun_layer(BOSUN)
    global CLIENT_BINARY
    CLIENT_BINARY = build_client()
    load = open("/proc/loadavg").read().split()[:3]
    configs = [(p, q) for p in PROTOCOLS for q in QUEUES]
    results = {(name, p, q): [] for p, q in configs for name in ("bosun", "journald")}
    unserved = set()
    for run in range(RUNS):
        for p, q in configs:
            for name, fn in (("bosun", bosun_run), ("journald", journald_run)):
                got = None if (name, p) in unserved else fn(q, p)
                if got is None:
                    rootfs.say(f"journal bench: {name} does not serve the {p} protocol")
                    unserved.add((name, p))
                    continue
                spent, stored, cpu = got
                rootfs.say(f"journal bench: run {run + 1}/{RUNS} {name}, {p}, queue {q}: {stored} "
                           f"lines stored, sends took {spent:.3f} s, receiver CPU {cpu:.3f} s")
                results[(name, p, q)].append((spent, stored, cpu))
    total = CLIENTS * LINES
    version = os.popen(f"chroot {rootfs.ROOT} /lib/systemd/systemd --version").read().split("\n")[0]
    cpu_name = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                     if l.startswith("model name")), "?")
    print("## Journal ingestion at one core (bosun as PID 1 against journald)\n")
    print(f"Command: `make bench` (runs `tests/bench/journal.py {os.path.relpath(BOSUN)}`), "
          f"{time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} cores ({cpu_name}), "
          f"kernel {platform.release()}, load average at start {' '.join(load)} (the machine is "
          f"shared; runs interleaved). Same container namespaces and root as the corpus section; "
          f"{CLIENTS} clients × {LINES:,} datagrams of 100 bytes, to `/dev/log` (RFC 3164 lines as "
          f"syslog(3) writes them) or to `/run/systemd/journal/socket` (the native protocol: "
          f"`SYSLOG_IDENTIFIER=`, `PRIORITY=`, `MESSAGE=` lines, as sd_journal_send(3) writes "
          f"them), {RUNS} runs each. The receiver is pinned to CPU 0, the "
          f"clients to CPU 1 (`taskset`); sends block while the receiver's queue is full, so the "
          f"send rate is the rate the receiver read at. **lines/s** = lines stored (counted in "
          f"the store afterwards) / time from letting the clients go to the last send "
          f"returning; **receiver CPU** = its CPU time over the flood / that time (below 100 %: it waited for the clients or for CPU 0, which the machine's other work shares); **lines per CPU-second** = lines stored / the receiver's CPU time over the flood, what one core could take if it had nothing else to do. Two datagram "
          f"queue lengths (`net.unix.max_dgram_qlen` of the container's network namespace): 10, "
          f"a new namespace's default, where senders and receiver take turns every 10 lines; "
          f"512, what systemd's sysctl.d/50-default.conf sets on a systemd host. The column "
          f"says the length set before the receiver started and, after an arrow, the one its "
          f"sockets were made with when the receiver changed it: bosun as PID 1 raises 10 to 512 "
          f"in a network namespace of its own, as systemd-sysctl does in a systemd container; "
          f"journald alone does not.\n")
    print(f"- **bosun** ({os.path.relpath(BOSUN)}): PID 1 (`taskset -c 0`), each client a unit "
          f"`flood@N.service` (`taskset -c 1` in `ExecStart=`), lines counted with "
          f"`initctl logs -n all` (lines whose sender had exited before bosun read them are kept "
          f"as `unknown`: counted, and said); rings `BOSUN_LOG_RING=4M`, "
          f"`BOSUN_LOG_RING_TOTAL=512M` so all are kept. bosun applies journald's per-unit limit "
          f"(10,000 lines per 30 s, journald's default for `LogRateLimitIntervalSec=`/`Burst=`), which one "
          f"burst per unit stays within; PID 1 also writes each line to its stdout (the "
          f"container log; a file here).")
    print(f"- **journald** ({version}): `/lib/systemd/systemd-journald` of the root, started "
          f"by a shell as PID 1 (systemd is not running), binding its own sockets, "
          f"`Storage=volatile` (journal files on the /run tmpfs), `RateLimitIntervalSec=0`, "
          f"`ReadKMsg=no`; lines counted with `journalctl -D /run/log/journal -o cat`.\n")
    print("| receiver | socket | `max_dgram_qlen` | lines stored / sent | lines/s (median, min–max) | receiver CPU | lines per CPU-second of the receiver (median) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, p, q), rows in results.items():
        if not rows:
            print(f"| {name} | {SOCKETS[p]} | {q} | not served | | | |")
            continue
        rates = [r[1] / r[0] for r in rows]
        stored = sorted({r[1] for r in rows})
        unknown = UNATTRIBUTED.get((name, p, q), [])
        note = (f" ({', '.join(f'{u:,}' for u in sorted(set(unknown)))} of them as `unknown`)"
                if any(unknown) else "")
        busy = statistics.median(r[2] / r[0] for r in rows)
        seen = EFFECTIVE.get((name, p, q), set()) - {str(q)}
        shown = f"{q} → {', '.join(sorted(seen))}" if seen else f"{q}"
        print(f"| {name} | {SOCKETS[p]} | {shown} | {', '.join(f'{s:,}' for s in stored)} / {total:,}{note} | "
              f"{statistics.median(rates):,.0f} ({min(rates):,.0f}–{max(rates):,.0f}) | "
              f"{busy * 100:.0f} % | {statistics.median(r[1] / r[2] for r in rows):,.0f} |")
    ratios = []
    for p, q in configs:
        if results[("bosun", p, q)] and results[("journald", p, q)]:
            b = statistics.median(r[1] / r[0] for r in results[("bosun", p, q)])
            j = statistics.median(r[1] / r[0] for r in results[("journald", p, q)])
            ratios.append(f"{b / j:.2f}× ({SOCKETS[p]}, queue {q})")
    print(f"\nbosun's lines per second against journald's in this run: {', '.join(ratios)}.")


if __name__ == "__main__":
    main()
