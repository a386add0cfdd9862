"""The issue-19 corpus root for the benchmarks, and booting an init over it in a container's
namespaces (imported by corpus.py and journal.py from this directory).

The root is tests/fixtures/corpus/build.sh's (38 packaged daemons and Debian 12's systemd 252)
over debootstrap's bookworm minbase, built once under target/tmp/corpus-bench/root with apt's
archives cached in target/tmp/corpus/archives (the cache `make corpus` uses). It is never
changed after the build: each boot mounts an overlay over it with a fresh tmpfs on top, so every
run starts from the same image, as a container runtime starts one. bosun is installed in a
layer of its own (`bosun image link` into target/tmp/corpus-bench/bosun-layer), stacked only
for bosun's boots: systemd's boots see the root's own `systemctl`.

A boot runs in fresh PID, mount, network, cgroup (a delegated cgroup2 subtree mounted at
/sys/fs/cgroup) namespaces, with the private /dev of tests/it/debroot.rs's boot_isolated, /proc,
a read-only /sys, tmpfs /run and /tmp, `container=podman` in the environment, and an eth0 (a
veth whose peer stays in the namespace, 10.88.0.2/16) beside loopback, as podman gives a
container; nmbd waits 90 s for a broadcast interface without one. PID 1 gets NOTIFY_SOCKET
naming a socket this script reads from the start of the boot to its end (systemd's sd_notify
blocks when the reader stops reading).
"""
import os, shutil, socket, subprocess, sys, threading, time

HOME = os.path.realpath("target/tmp/corpus-bench")
ROOT = os.path.join(HOME, "root")
BOSUN_LAYER = os.path.join(HOME, "bosun-layer")
ARCHIVES = os.path.realpath("target/tmp/corpus/archives")
DEBROOT = os.path.realpath("target/tmp/debroot")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def say(text):
    print(text, file=sys.stderr, flush=True)


def mirror():
    """The Debian archive this machine's apt fetches bookworm from, else deb.debian.org."""
    texts = []
    for path in ["/etc/apt/sources.list"] + [
            os.path.join("/etc/apt/sources.list.d", n)
            for n in sorted(os.listdir("/etc/apt/sources.list.d"))
            if n.endswith((".list", ".sources"))]:
        try:
            texts.append(open(path).read())
        except OSError:
            pass
    for text in texts:
        for line in text.splitlines():
            words = [w for w in line.split() if not w.startswith("[")]
            if words[:1] == ["deb"] and words[2:3] == ["bookworm"] and "security" not in words[1]:
                return words[1]
        for stanza in text.split("\n\n"):
            fields = dict(l.split(":", 1) for l in stanza.splitlines() if ":" in l and not l.startswith("#"))
            uris = fields.get("URIs", "").split()
            if "bookworm" in fields.get("Suites", "").split() and uris and "security" not in uris[0]:
                return uris[0]
    return "http://deb.debian.org/debian"


def fixture_stamp():
    """What the root is built from: the corpus fixture's files, hashed."""
    import hashlib
    digest = hashlib.sha256()
    for name in ("build.sh", "config.sh", "packages.txt"):
        with open(os.path.join("tests/fixtures/corpus", name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def ensure_root():
    """Build the corpus root unless it is there, built from the fixture as it is now
    (debootstrap, then build.sh)."""
    stamp = os.path.join(HOME, "root.stamp")
    if os.path.isdir(ROOT) and os.path.exists(stamp) and open(stamp).read() == fixture_stamp():
        return
    shutil.rmtree(ROOT, ignore_errors=True)
    bookworm = os.path.join(DEBROOT, "bookworm")
    if not os.path.isdir(bookworm):
        say("corpus root: debootstrap bookworm (minbase)")
        work = os.path.join(DEBROOT, "build")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(os.path.join(DEBROOT, "cache"), exist_ok=True)
        subprocess.run(["debootstrap", "--variant=minbase", "--cache-dir",
                        os.path.join(DEBROOT, "cache"), "bookworm", work, mirror()],
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, PATH="/usr/sbin:/usr/bin:/sbin:/bin"))
        os.rename(work, bookworm)
    say("corpus root: tests/fixtures/corpus/build.sh (apt archives cached in target/tmp/corpus)")
    work = os.path.join(HOME, "build")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(HOME, exist_ok=True)
    subprocess.run(["cp", "-a", bookworm, work], check=True)
    with open(os.path.join(HOME, "build.log"), "w") as log:
        subprocess.run(["bash", "tests/fixtures/corpus/build.sh", work, ARCHIVES], check=True,
                       stdout=log, stderr=subprocess.STDOUT)
    os.rename(work, ROOT)
    with open(stamp, "w") as f:
        f.write(fixture_stamp())


def make_bosun_layer(binary):
    """bosun as /usr/local/bin/bosun with `bosun image link` done, as an overlay layer."""
    shutil.rmtree(BOSUN_LAYER, ignore_errors=True)
    work = os.path.join(HOME, "layer-work")
    merged = os.path.join(HOME, "layer-mnt")
    shutil.rmtree(work, ignore_errors=True)
    for d in (BOSUN_LAYER, work, merged):
        os.makedirs(d, exist_ok=True)
    script = ('set -e; mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"; '
              'mkdir -p "$4/usr/local/bin"; cp "$5" "$4/usr/local/bin/bosun"; '
              '"$5" image link --root "$4" --bosun /usr/local/bin/bosun')
    subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", ROOT, BOSUN_LAYER, work,
                    merged, binary], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    shutil.rmtree(work, ignore_errors=True)


def cgroup2_base():
    """Where this machine's cgroup2 hierarchy is mounted (pure or hybrid layout)."""
    for base in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        if os.path.exists(os.path.join(base, "cgroup.procs")) and \
                os.path.exists(os.path.join(base, "cgroup.subtree_control")):
            return base
    raise RuntimeError("no cgroup2 hierarchy mounted")


def remove_cgroup(path):
    """Remove a boot's cgroup tree once its processes are gone (a killed namespace's take a
    moment to die)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
            open(os.path.join(d, "cgroup.procs")).read().strip()
            for d, _, files in os.walk(path) if "cgroup.procs" in files):
        time.sleep(0.05)
    for dirpath, dirnames, _ in os.walk(path, topdown=False):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


# Inside the new namespaces (sh as their PID 1 until it execs the init): the container's
# filesystem and network, then `exec chroot MERGED INIT...`, after printing the time of exec.
INSIDE = r'''set -e
ip link set lo up
ip link add eth0 type veth peer name peer0
ip addr add 10.88.0.2/16 dev eth0
ip link set peer0 up; ip link set eth0 up
mount -t tmpfs -o mode=755 bench-layer "$BENCH_TOP"
mkdir "$BENCH_TOP/upper" "$BENCH_TOP/work"
mount -t overlay overlay -o "lowerdir=$BENCH_LOWER,upperdir=$BENCH_TOP/upper,workdir=$BENCH_TOP/work" "$BENCH_MNT"
r=$BENCH_MNT
mount -t proc proc "$r/proc"
mount -t sysfs -o ro sysfs "$r/sys"
mount -t cgroup2 -o nsdelegate cgroup2 "$r/sys/fs/cgroup"
mount -t tmpfs -o mode=755 run "$r/run"
mount -t tmpfs -o mode=1777 tmp "$r/tmp"
mount -t tmpfs -o mode=755,nosuid dev "$r/dev"
for n in null zero full random urandom tty; do touch "$r/dev/$n"; mount --bind "/dev/$n" "$r/dev/$n"; done
mkdir "$r/dev/pts" "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
ln -s /proc/self/fd "$r/dev/fd"; ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"; ln -s /proc/self/fd/2 "$r/dev/stderr"
mkdir "$r/run/bench"; mount --bind "$BENCH_SHARED" "$r/run/bench"
eval "$BENCH_SETUP"
echo "bench-exec-at $(date +%s.%N)" >&2
exec env -i container=podman PATH=$BENCH_PATH LANG=C.UTF-8 BOSUN_ROOT=/ \
    NOTIFY_SOCKET=/run/bench/notify $BENCH_ENV $BENCH_WRAP chroot "$r" "$@"
'''


class Boot:
    """One init booted over the corpus root in fresh namespaces.

    `layers`: overlay lower directories above the root; `argv`: the init and its arguments,
    as paths inside the root; `env`: extra `KEY=VALUE` words for its environment; `setup`: shell
    run inside the namespaces before the exec (`$r` is the root); `wrap`: words before `chroot`
    (taskset); `prepare`: called with the shared directory before the launch; `console`: a file for PID 1's stdout and stderr, written directly (else they
    are relayed into the boot's log with the time of each line). /run/bench inside is
    `self.shared` outside."""

    count = 0

    def __init__(self, name, argv, layers=(), env=(), setup="", wrap=(), console=None,
                 prepare=None):
        self.name = name
        logs = os.path.join(HOME, "logs")
        os.makedirs(logs, exist_ok=True)
        self.log = os.path.join(logs, name.replace(" ", "_").replace("/", "_") + ".log")
        self.shared = os.path.join(HOME, f"shared-{os.getpid()}")
        shutil.rmtree(self.shared, ignore_errors=True)
        os.makedirs(self.shared)
        os.chmod(self.shared, 0o1777)
        if prepare:
            prepare(self.shared)
        for d in ("top", "mnt"):
            os.makedirs(os.path.join(HOME, d), exist_ok=True)
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(os.path.join(self.shared, "notify"))
        self.ready_at = None
        self.stopping_at = None
        self.ready = threading.Event()
        threading.Thread(target=self._read_notify, daemon=True).start()
        Boot.count += 1
        self.cgroup = os.path.join(cgroup2_base(), f"bosun-bench-{os.getpid()}-{Boot.count}")
        remove_cgroup(self.cgroup)
        os.makedirs(self.cgroup)
        env_vars = dict(os.environ, BENCH_TOP=os.path.join(HOME, "top"),
                        BENCH_MNT=os.path.join(HOME, "mnt"),
                        BENCH_LOWER=":".join(list(layers) + [ROOT]), BENCH_SHARED=self.shared,
                        BENCH_SETUP=setup, BENCH_PATH=PATH, BENCH_ENV=" ".join(env),
                        BENCH_WRAP=" ".join(wrap))
        env_vars.pop("NOTIFY_SOCKET", None)
        launcher = (f'echo $$ > {self.cgroup}/cgroup.procs && exec unshare --cgroup --pid --fork '
                    '--mount-proc --kill-child --net sh -c "$0" sh "$@"')
        self.started = time.monotonic()
        self.exec_time = None
        self.logged = None
        if console:
            self.log = console
        self.proc = subprocess.Popen(["sh", "-c", launcher, INSIDE] + list(argv), env=env_vars,
                                     stdin=subprocess.DEVNULL,
                                     stdout=open(console, "w") if console else subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        if not console:
            self.logged = threading.Thread(target=self._keep_output, daemon=True)
            self.logged.start()
        self.pid = None

    def _keep_output(self):
        """The console (PID 1's stdout and stderr) into the log, each line with the seconds
        since the launch."""
        with open(self.log, "w") as log:
            for line in self.proc.stdout:
                text = line.decode(errors="replace")
                if text.startswith("bench-exec-at ") and self.exec_time is None:
                    self.exec_time = float(text.split()[1])
                log.write(f"[{time.monotonic() - self.started:8.3f}] {text}")

    def _read_notify(self):
        while True:
            try:
                data = self.notify.recv(65536)
            except OSError:
                return
            now = time.time()
            fields = data.split(b"\n")
            if b"READY=1" in fields and self.ready_at is None:
                self.ready_at = now
                self.ready.set()
            if b"STOPPING=1" in fields and self.stopping_at is None:
                self.stopping_at = now

    def exec_at(self):
        """When the setup exec'd the init (realtime seconds), from the log."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.exec_time is None and self.logged is None:
                for line in open(self.log, errors="replace"):
                    if line.startswith("bench-exec-at "):
                        self.exec_time = float(line.split()[1])
            if self.exec_time is not None:
                return self.exec_time
            time.sleep(0.01)
        raise RuntimeError(f"{self.name}: the init was never exec'd (see {self.log})")

    def wait_ready(self, timeout=300):
        """Seconds from the init's exec to its READY=1."""
        if not self.ready.wait(timeout):
            raise RuntimeError(f"{self.name}: no READY=1 within {timeout} s (see {self.log})")
        return self.ready_at - self.exec_at()

    def init_pid(self):
        if self.pid is None:
            deadline = time.monotonic() + 10
            while self.pid is None and time.monotonic() < deadline:
                kids = open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read().split()
                if kids:
                    self.pid = int(kids[0])
                time.sleep(0.001)
        return self.pid

    def run(self, command, timeout=60):
        """A shell command inside the container (its namespaces and root); its stdout."""
        out = subprocess.run(["nsenter", "-t", str(self.init_pid()), "-m", "-u", "-i", "-n", "-p",
                              "-C", "-r", "-w", "env", "-i", f"PATH={PATH}", "LANG=C.UTF-8",
                              "sh", "-c", command], capture_output=True, text=True, timeout=timeout)
        return out.stdout

    def stop(self, sig, timeout=300):
        """Send `sig` to the init; seconds until it has exited (and unshare with it)."""
        pid = self.init_pid()
        t0 = time.monotonic()
        os.kill(pid, sig)
        self.proc.wait(timeout=timeout)
        spent = time.monotonic() - t0
        if self.logged:
            self.logged.join(timeout=5)
        self.close()
        return spent

    def status(self):
        """How the init ended, as unshare passes it on: exit N or killed by SIGNAME."""
        rc = self.proc.returncode
        if rc is None:
            return "running"
        if rc < 0:
            return "killed by " + __import__("signal").Signals(-rc).name
        return f"exit {rc}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()
        remove_cgroup(self.cgroup)
        shutil.rmtree(self.shared, ignore_errors=True)
