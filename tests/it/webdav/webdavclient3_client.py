"""The Python webdavclient3 client (requests, Digest) against bosun webdav: argv = URL USER
PASSWORD DIR, URL being the server's root (http://HOST:PORT). Exits non-zero with the failing
step on any difference.
"""
import hashlib
import os
import sys

from requests.auth import HTTPDigestAuth
from webdav3.client import Client

url, user, password, work = sys.argv[1:5]
client = Client(
    {
        "webdav_hostname": url,
        "webdav_root": "/webdav/",
        "webdav_login": user,
        "webdav_password": password,
        "webdav_timeout": 30,
    }
)
client.session.auth = HTTPDigestAuth(user, password)

src = os.path.join(work, "src.bin")
with open(src, "wb") as f:
    f.write(os.urandom(300_000))
digest = hashlib.sha256(open(src, "rb").read()).hexdigest()

assert client.check("seed.txt"), "check on a file"
assert not client.check("missing.txt"), "check on a missing path"
assert client.info("seed.txt")["size"] == "5", client.info("seed.txt")
assert not client.is_dir("seed.txt"), "is_dir on a file"
client.mkdir("docs")
assert client.is_dir("docs"), "is_dir on a collection"
client.upload_sync(remote_path="docs/data.bin", local_path=src)
out = os.path.join(work, "out.bin")
client.download_sync(remote_path="docs/data.bin", local_path=out)
assert hashlib.sha256(open(out, "rb").read()).hexdigest() == digest, "download differs"
names = [n.rstrip("/") for n in client.list("docs")]
assert "data.bin" in names, names
client.copy(remote_path_from="docs/data.bin", remote_path_to="docs/copy.bin")
client.move(remote_path_from="docs/copy.bin", remote_path_to="moved.bin")
assert client.check("moved.bin") and not client.check("docs/copy.bin"), "move"
client.set_property("moved.bin", {"namespace": "urn:example", "name": "color", "value": "blue"})
assert client.get_property("moved.bin", {"namespace": "urn:example", "name": "color"}) == "blue"
client.clean("moved.bin")
assert not client.check("moved.bin"), "clean"
print("webdavclient3 ok")
