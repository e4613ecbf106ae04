"""A local stand-in for the Google Cloud Storage JSON API: enough of it (object get, media download,
prefix/delimiter listing, single-request and resumable uploads, delete) for the real gcsfs client to list, read
and write objects over HTTP.

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
        self._uploads: dict[str, tuple[str, str, bytearray]] = {}  # resumable: id -> bucket, name, bytes
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

            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                parts = url.path.split("/")
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if "upload" not in parts or "b" not in parts:
                    return self._send(404, b'{"error": {"code": 404, "message": "Not Found"}}')
                bucket = parts[parts.index("b") + 1]
                kind = query.get("uploadType")
                if kind == "media":
                    name, data = query["name"], body
                elif kind == "multipart":
                    name, data = _multipart(self.headers.get("Content-Type", ""), body)
                elif kind == "resumable" and "upload_id" not in query:
                    upload_id = str(next(gcs._generation))
                    gcs._uploads[upload_id] = (bucket, json.loads(body)["name"], bytearray())
                    self.send_response(200)
                    self.send_header("Location", f"{gcs.url}{url.path}?uploadType=resumable&upload_id={upload_id}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                elif kind == "resumable":
                    bucket, name, buf = gcs._uploads[query["upload_id"]]
                    buf += body
                    total = self.headers.get("Content-Range", "*/*").rsplit("/", 1)[1]
                    if total == "*" or len(buf) < int(total):
                        self.send_response(308)
                        self.send_header("Range", f"bytes=0-{len(buf) - 1}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    del gcs._uploads[query["upload_id"]]
                    data = bytes(buf)
                else:
                    return self._send(400, b'{"error": {"code": 400, "message": "unknown uploadType"}}')
                gcs.put(bucket, name, data)
                return self._send(200, json.dumps(gcs._meta(bucket, name)).encode())

            def do_DELETE(self):
                parts = urllib.parse.urlparse(self.path).path.split("/")
                i = parts.index("b")
                key = (parts[i + 1], urllib.parse.unquote(parts[i + 3]))
                if gcs.objects.pop(key, None) is None:
                    return self._send(404, b'{"error": {"code": 404, "message": "Not Found"}}')
                self.send_response(204)
                self.end_headers()

        self._httpd = start_http_server(Handler)
        return self

    def __exit__(self, *exc) -> None:
        stop_http_server(self._httpd)

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"


def _multipart(content_type: str, body: bytes) -> tuple[str, bytes]:
    """(object name, bytes) of a `multipart/related` upload: a JSON metadata part, then the data."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    parts = body.split(b"--" + boundary)
    meta_part, data_part = parts[1], parts[2]
    meta = json.loads(meta_part.split(b"\n\n", 1)[1].strip())
    data = data_part.split(b"\n\n", 1)[1]
    return meta["name"], data[:-1] if data.endswith(b"\n") else data


def core_gcsfs(monkeypatch) -> None:
    """gs:// and gcs:// through gcsfs's JSON-API class for the rest of the test."""
    import sys

    import fsspec
    import gcsfs.core

    registry = sys.modules["fsspec.registry"]._registry  # `fsspec.registry` names a read-only view
    for protocol in ("gs", "gcs"):
        monkeypatch.setitem(registry, protocol, gcsfs.core.GCSFileSystem)
    assert fsspec.get_filesystem_class("gs") is gcsfs.core.GCSFileSystem
