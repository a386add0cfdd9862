#!/bin/sh
# `make demo`: bosun as PID 1 of fresh PID and mount namespaces, on an image made here under
# target/demo (BOSUN_ROOT): the example units of unit-examples/ (a web server fed by a oneshot
# migration, two template workers, a notify service), WebDAV, and bosun's headline, a data
# volume: a template made by hand (no `bosun image prepare`), a build id, an installer as
# first-boot hook that calls systemctl, an upgrade hook, and the volume target/demo/data, kept
# between runs. The first run seeds the volume and runs the installer; the next ones start
# routinely; `make demo BUILD_ID=2` brings a new template, merged into the volume
# (`make demo-reset` starts over). The web server and WebDAV serve the volume's www/.
# /run, /tmp and /srv are private tmpfs inside, so nothing else on this machine is touched.
# Ctrl-C (or SIGINT/SIGTERM to bosun) stops it.
#
# Environment: BUILD_ID (default: the last run's, else 1), DEMO_DIR (target/demo),
# DEMO_WEB_PORT (8080), DEMO_WEBDAV_PORT (8081).
set -eu
bosun=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
demo=${DEMO_DIR:-$here/target/demo}
web_port=${DEMO_WEB_PORT:-8080}
dav_port=${DEMO_WEBDAV_PORT:-8081}
mkdir -p "$demo"
demo=$(realpath "$demo")
data="$demo/data"
build=${BUILD_ID:-$(cat "$demo/last-build-id" 2>/dev/null || echo 1)}
case "$build" in
    ''|.*|*[!A-Za-z0-9._-]*)
        echo "demo: BUILD_ID=$build: use letters, digits, '.', '_' and '-'" >&2
        exit 2;;
esac
# A build id the volume has not seen yet: the next number, or ID.1.
next_build() {
    case "$1" in
        *[!0-9]*) echo "$1.1";;
        *) echo $(($1 + 1));;
    esac
}

# The image, made again at every run; only the volume (data/) and the last build id stay.
find "$demo" -mindepth 1 -maxdepth 1 ! -name data ! -name last-build-id -exec rm -rf {} +
units="$demo/etc/systemd/system"
mkdir -p "$units/multi-user.target.wants" "$units/demo.target.wants"
cp "$here"/unit-examples/*.service "$here"/unit-examples/*.target "$units/"
ln -s ../demo.target "$units/multi-user.target.wants/demo.target"

# The template, as a Dockerfile's COPY and RUN would make it, and the build id (what
# `RUN echo ... > /etc/build-id` writes). Each build changes the page and the configuration's
# defaults and adds its release notes.
tpl="$demo/data-template"
mkdir -p "$tpl/www/releases" "$tpl/conf"
cat > "$tpl/www/index.html" <<HTML
<h1>bosun demo, build $build</h1>
<p>This page is in the data volume ($data/www), seeded from the template at the first run.
Edit it over WebDAV, then start the demo with a new BUILD_ID: your version is kept and the
image's new one is written beside it as index.html.bosun-new.</p>
HTML
cat > "$tpl/conf/app.conf" <<CONF
# defaults of build $build
greeting = hello
workers = 2
CONF
echo "build $build: what is new" > "$tpl/www/releases/$build.txt"
echo "$build" > "$demo/etc/build-id"
echo "$build" > "$demo/last-build-id"

# The hooks: an installer (once), an upgrade step (once per new build), and a note at every
# boot of which kind of start this was, as bosun tells it (BOSUN_PREVIOUS_BUILD_ID is empty at
# the first run) and `initctl status` shows it.
hooks="$demo/etc/bosun/hooks"
mkdir -p "$hooks/first-boot.d" "$hooks/upgrade.d" "$hooks/boot.d"
cat > "$hooks/first-boot.d/10-install" <<HOOK
#!/bin/sh
# The installer: runs once, after the units wanted at boot are up, as a package's would.
set -eu
echo "installing build \$BOSUN_BUILD_ID into \$BOSUN_DATA_DIR"
date -u +"<p>installed by build \$BOSUN_BUILD_ID at %Y-%m-%d %H:%M:%S UTC</p>" > "\$BOSUN_DATA_DIR/www/installed.html"
$bosun systemctl restart demo-web.service
echo "demo-web.service is \$($bosun systemctl is-active demo-web.service)"
HOOK
cat > "$hooks/upgrade.d/10-migrate" <<HOOK
#!/bin/sh
set -eu
echo "migrating \$BOSUN_DATA_DIR from build \$BOSUN_PREVIOUS_BUILD_ID to \$BOSUN_BUILD_ID"
echo "\$(date -u +%FT%TZ) \$BOSUN_PREVIOUS_BUILD_ID -> \$BOSUN_BUILD_ID" >> "\$BOSUN_DATA_DIR/upgrades.log"
HOOK
cat > "$hooks/boot.d/90-banner" <<HOOK
#!/bin/sh
case "\$BOSUN_PREVIOUS_BUILD_ID" in
    '') echo "== this start: FIRST RUN: bosun seeded \$BOSUN_DATA_DIR from the template and ran the installer (first-boot.d) ==";;
    "\$BOSUN_BUILD_ID") echo "== this start: ROUTINE START: the volume already holds build \$BOSUN_BUILD_ID; no installer ==";;
    *) echo "== this start: UPGRADE from build \$BOSUN_PREVIOUS_BUILD_ID to \$BOSUN_BUILD_ID: the new template was merged into the volume and upgrade.d ran ==";;
esac
$bosun ctl status | grep -E '^ *(Volume|Upgrade|\.bosun-new):' || true
echo "== to see an upgrade: stop (Ctrl-C) and run: make demo BUILD_ID=$(next_build "$build"); to start over: make demo-reset =="
HOOK
chmod 755 "$hooks"/*/*

# The web server and WebDAV serve the volume's www/: user "demo", password "demo" (an htdigest
# line is user:realm:md5(user:realm:password)).
realm="bosun demo"
printf 'demo:%s:%s\n' "$realm" "$(printf 'demo:%s:demo' "$realm" | md5sum | cut -d' ' -f1)" > "$demo/htdigest"
mkdir -p "$units/demo-web.service.d"
cat > "$units/demo-web.service.d/volume.conf" <<UNIT
[Service]
Environment=DEMO_PORT=$web_port
WorkingDirectory=$data/www
ExecStart=
ExecStart=/usr/bin/python3 -m http.server \${DEMO_PORT} --directory $data/www
UNIT
cat > "$units/demo-webdav.service" <<UNIT
[Unit]
Description=bosun demo: WebDAV on the volume's web root (user demo, password demo)
After=demo-migrate.service

[Service]
ExecStart=$bosun webdav --root $data/www --listen 127.0.0.1:$dav_port --prefix /webdav/ --realm "$realm" --htdigest $demo/htdigest
Restart=on-failure
UNIT
ln -s ../demo-webdav.service "$units/demo.target.wants/demo-webdav.service"

[ -d /srv ] || mkdir /srv
userns=""
[ "$(id -u)" = 0 ] || userns="--user --map-root-user"
cat <<MSG
== bosun demo: bosun is PID 1 of a fresh PID namespace, image $demo, build $build ==
The data volume is $data (kept between runs). Try, from another terminal:
  curl http://127.0.0.1:$web_port/
  curl --digest -u demo:demo http://127.0.0.1:$dav_port/webdav/ -X PROPFIND -H 'Depth: 1'
  curl --digest -u demo:demo http://127.0.0.1:$dav_port/webdav/index.html -T my-page.html
  BOSUN_ROOT=$demo $bosun ctl status
  BOSUN_ROOT=$demo $bosun ctl logs -f
  BOSUN_ROOT=$demo $bosun systemctl restart demo-web.service
Press Ctrl-C to stop: bosun stops every unit in reverse order and exits.
MSG
export BOSUN_ROOT="$demo"
# shellcheck disable=SC2086
exec unshare $userns --pid --fork --mount-proc --kill-child sh -c '
    mount -t tmpfs -o mode=755 demo-run /run &&
    mount -t tmpfs -o mode=1777 demo-tmp /tmp &&
    mount -t tmpfs -o mode=755 demo-srv /srv &&
    exec "$@"' sh "$bosun"
