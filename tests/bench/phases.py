#!/usr/bin/python3
"""Before/after for bosun's own boot work: several bosun binaries booted in turn over the
corpus root (rootfs.py's namespaces, as corpus.py), each with `-vv`; per binary the median
(min–max) of READY=1, PID 1's CPU time at READY=1 (/proc/PID/stat, user + system), and when
its console said the units were loaded (`tracking service processes by`, said right after
loading them, before the default target is queued), all from the exec of PID 1.

Usage: tests/bench/phases.py RUNS BOSUN_BINARY... > table.md   (needs root)
Nothing here is pass/fail. The machine's other work shows in READY=1 first; PID 1's CPU time
and the load phase are bosun's own.
"""
import os, re, signal, shutil, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rootfs  # noqa: E402

TCK = os.sysconf("SC_CLK_TCK")


def layer_of(binary):
    """A bosun layer of its own for `binary` (rootfs.make_bosun_layer's, copied aside)."""
    rootfs.make_bosun_layer(binary)
    layer = f"{rootfs.BOSUN_LAYER}-{len(os.listdir(rootfs.HOME))}"
    shutil.rmtree(layer, ignore_errors=True)
    shutil.copytree(rootfs.BOSUN_LAYER, layer, symlinks=True)
    return layer


def boot_once(layer):
    boot = rootfs.Boot("phases", argv=["/usr/local/bin/bosun", "-vv"], layers=[layer])
    try:
        ready = boot.wait_ready()
        stat = open(f"/proc/{boot.init_pid()}/stat").read().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / TCK
        boot.stop(signal.SIGTERM)
    finally:
        boot.close()
    exec_at = loaded = None
    for line in open(boot.log, errors="replace"):
        m = re.match(r"\[\s*([\d.]+)\] (.*)", line)
        if m and "bench-exec-at" in m.group(2):
            exec_at = float(m.group(1))
        elif m and m.group(2).startswith("bosun: tracking service processes by"):
            loaded = float(m.group(1)) - exec_at
    return ready, cpu, loaded


def span(values, scale, digits, unit):
    values = [v * scale for v in values if v is not None]
    return (f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}–"
            f"{max(values):.{digits}f})") if values else "—"


def main():
    runs, binaries = int(sys.argv[1]), sys.argv[2:]
    rootfs.ensure_root()
    load = open("/proc/loadavg").read().split()[:3]
    layers = {b: layer_of(b) for b in binaries}
    results = {b: [] for b in binaries}
    for b in binaries:
        boot_once(layers[b])  # warm-up, not counted
    for run in range(runs):
        for b in binaries:
            r = boot_once(layers[b])
            rootfs.say(f"phases: run {run + 1}/{runs} {b}: ready {r[0]:.2f} s, CPU {r[1]:.2f} s, "
                       f"loaded {r[2] * 1000 if r[2] else 0:.0f} ms")
            results[b].append(r)
    for layer in layers.values():
        shutil.rmtree(layer, ignore_errors=True)
    print(f"`tests/bench/phases.py {runs} {' '.join(binaries)}`, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load average at start "
          f"{' '.join(load)}; {runs} boots each after a warm-up, interleaved; median (min–max).\n")
    print("| bosun | ready | PID 1 CPU at READY=1 | units loaded (said at) |")
    print("|---|---:|---:|---:|")
    for b in binaries:
        rs = results[b]
        print(f"| {b} | {span([r[0] for r in rs], 1, 2, ' s')} | "
              f"{span([r[1] for r in rs], 1, 2, ' s')} | "
              f"{span([r[2] for r in rs], 1000, 0, ' ms')} |")


if __name__ == "__main__":
    main()
