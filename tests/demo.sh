#!/bin/sh
# `make demo`: bosun as PID 1 of fresh PID and mount namespaces, booting the example units of
# unit-examples/ (a web server fed by a oneshot migration, two template workers, a notify
# service) plus WebDAV on the web root, from a unit tree made here. /run, /tmp and /srv are
# private tmpfs inside, so nothing on this machine is touched. Ctrl-C (or SIGTERM) stops it.
set -eu
bosun=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
root="$here/target/demo-root"
units="$root/etc/systemd/system"
rm -rf "$root"
mkdir -p "$units/multi-user.target.wants" "$units/demo.target.wants"
cp "$here"/unit-examples/*.service "$here"/unit-examples/*.target "$units/"
ln -s ../demo.target "$units/multi-user.target.wants/demo.target"

# WebDAV on the demo's web root: user "demo", password "demo" (an htdigest line is
# user:realm:md5(user:realm:password)).
realm="bosun demo"
printf 'demo:%s:%s\n' "$realm" "$(printf 'demo:%s:demo' "$realm" | md5sum | cut -d' ' -f1)" > "$root/htdigest"
cat > "$units/demo-webdav.service" <<UNIT
[Unit]
Description=bosun demo: WebDAV on the web root (user demo, password demo)
After=demo-migrate.service

[Service]
ExecStart=$bosun webdav --root /srv/demo --listen 127.0.0.1:8081 --prefix /webdav/ --realm "$realm" --htdigest $root/htdigest
Restart=on-failure
UNIT
ln -s ../demo-webdav.service "$units/demo.target.wants/demo-webdav.service"

[ -d /srv ] || mkdir /srv
userns=""
[ "$(id -u)" = 0 ] || userns="--user --map-root-user"
cat <<MSG
== bosun demo: bosun is PID 1 of a fresh PID namespace, booting unit-examples/ ==
Try, from another terminal:
  curl http://127.0.0.1:8080/
  curl --digest -u demo:demo http://127.0.0.1:8081/webdav/ -X PROPFIND -H 'Depth: 1'
  BOSUN_ROOT=$root $bosun ctl status
  BOSUN_ROOT=$root $bosun ctl logs -f
  BOSUN_ROOT=$root $bosun systemctl restart demo-web.service
Press Ctrl-C to stop: bosun stops every unit in reverse order and exits.
MSG
export BOSUN_ROOT="$root"
# shellcheck disable=SC2086
exec unshare $userns --pid --fork --mount-proc --kill-child sh -c '
    mount -t tmpfs -o mode=755 demo-run /run &&
    mount -t tmpfs -o mode=1777 demo-tmp /tmp &&
    mount -t tmpfs -o mode=755 demo-srv /srv &&
    exec "$@"' sh "$bosun"
