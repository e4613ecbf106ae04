"""A local stand-in for the Google Cloud Storage JSON API: enough of it (object get, media download,
prefix/delimiter listing) for the real gcsfs client to list and read a landing zone over HTTP.

gcsfs's default class first asks a gRPC control plane for the bucket's layout (a minute of retries
against a fake), so `core_gcsfs()` registers the plain JSON-API class for gs:// for the test.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fakes.fault_server import start_http_server, stop_http_server


class FakeGCS:
    def __init__(self):
        self.objects: dict[tuple[str, str], tuple[bytes, str, int]] = {}
        self._generation = itertools.count(int(time.time() * 1e6))
        self._httpd: ThreadingHTTPServer | None = None

    def put(self, bucket: str, name: str, data: bytes) -> None:
        updated = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        self.objects[(bucket, name)] = (data, updated, next(self._generation))

    def _meta(self, bucket: str, name: str) -> dict:
        data, updated, generation = self.objects[(bucket, name)]
        return {"kind": "storage#object", "bucket": bucket, "name": name, "size": str(len(data)),
                "updated": updated, "generation": str(generation), "etag": hashlib.md5(data).hexdigest(),
                "contentType": "application/octet-stream"}

    def _list(self, bucket: str, prefix: str, delimiter: str | None) -> dict:
        items, prefixes = [], set()
        for b, name in sorted(self.objects):
            if b != bucket or not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            if delimiter and delimiter in rest:
                prefixes.add(prefix + rest.split(delimiter)[0] + delimiter)
            else:
                items.append(self._meta(b, name))
        return {"kind": "storage#objects", "items": items, "prefixes": sorted(prefixes)}

    def __enter__(self) -> FakeGCS:
        gcs = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                parts = url.path.split("/")
                if "b" not in parts:
                    return self._send(404, b'{"error": {"code": 404, "message": "Not Found"}}')
                i = parts.index("b")
                bucket, rest = parts[i + 1], parts[i + 2:]
                if rest[:1] == ["o"] and len(rest) > 1:
                    name = urllib.parse.unquote(rest[1])
                    if (bucket, name) not in gcs.objects:
                        return self._send(404, b'{"error": {"code": 404, "message": "Not Found"}}')
                    if query.get("alt") == "media":
                        return self._send(200, gcs.objects[(bucket, name)][0], "application/octet-stream")
                    return self._send(200, json.dumps(gcs._meta(bucket, name)).encode())
                if rest[:1] == ["o"]:
                    listing = gcs._list(bucket, query.get("prefix", ""), query.get("delimiter"))
                    return self._send(200, json.dumps(listing).encode())
                return self._send(200, json.dumps({"kind": "storage#bucket", "name": bucket}).encode())

        self._httpd = start_http_server(Handler)
        return self

    def __exit__(self, *exc) -> None:
        stop_http_server(self._httpd)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"


def core_gcsfs(monkeypatch) -> None:
    """gs:// and gcs:// through gcsfs's JSON-API class for the rest of the test."""
    import sys

    import fsspec
    import gcsfs.core

    registry = sys.modules["fsspec.registry"]._registry  # `fsspec.registry` names a read-only view
    for protocol in ("gs", "gcs"):
        monkeypatch.setitem(registry, protocol, gcsfs.core.GCSFileSystem)
    assert fsspec.get_filesystem_class("gs") is gcsfs.core.GCSFileSystem
