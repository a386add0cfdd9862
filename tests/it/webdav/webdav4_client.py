"""The Python webdav4 client (httpx, Digest) against bosun webdav: argv = URL USER PASSWORD DIR.

Every call a program makes with it: exists, info, isdir, isfile on files, ls, mkdir,
upload_file (its default, which asks `exists` first), download_file, copy, move, remove. Exits non-zero with
the failing step on any difference.
"""
import hashlib
import os
import sys

import httpx
from webdav4.client import Client

url, user, password, work = sys.argv[1:5]
client = Client(url, auth=httpx.DigestAuth(user, password), timeout=30)

src = os.path.join(work, "src.bin")
with open(src, "wb") as f:
    f.write(os.urandom(300_000))
digest = hashlib.sha256(open(src, "rb").read()).hexdigest()

assert not client.exists("missing.txt"), "exists on a missing path"
assert client.exists("seed.txt"), "exists on a file"
info = client.info("seed.txt")
assert info["content_length"] == 5, info
assert not client.isdir("seed.txt") and client.isfile("seed.txt"), "isdir/isfile on a file"
client.mkdir("docs")
kinds = {e["name"].rstrip("/"): e["type"] for e in client.ls("", detail=True)}
assert kinds.get("docs") == "directory", kinds
# exists/isdir on a collection send PROPFIND without Depth, which Apache (DavDepthInfinity
# Off, its default) refuses with 403 on collections; bosun refuses exactly that too.
try:
    client.isdir("docs")
    raise SystemExit("PROPFIND without Depth on a collection was answered")
except Exception as err:
    assert "403" in str(err), err
client.upload_file(src, "docs/data.bin")
try:
    client.upload_file(src, "docs/data.bin")
    raise SystemExit("upload_file without overwrite replaced an existing file")
except Exception as err:  # webdav4 raises ResourceAlreadyExists
    assert "exists" in type(err).__name__.lower() or "exists" in str(err).lower(), err
client.upload_file(src, "docs/data.bin", overwrite=True)
out = os.path.join(work, "out.bin")
client.download_file("docs/data.bin", out)
assert hashlib.sha256(open(out, "rb").read()).hexdigest() == digest, "download differs"
names = sorted(os.path.basename(e["name"].rstrip("/")) for e in client.ls("docs"))
assert names == ["data.bin"], names
client.copy("docs/data.bin", "docs/copy.bin")
client.move("docs/copy.bin", "moved.bin")
assert client.exists("moved.bin") and not client.exists("docs/copy.bin"), "move"
client.remove("moved.bin")
assert not client.exists("moved.bin"), "remove"
print("webdav4 ok")
