"""The landing zone: where source shards arrive, on a local folder, s3:// or gs://.

Layout (README): `youtube_commons/<shard>.parquet`, `videos/<video_id>.<ext>` (+ `.en.vtt`),
`pdfa/<shard>/<doc_key>.pdf` (+ `<doc_key>.json`). A shard's partition key is its file or folder
name made safe for Dagster ([A-Za-z0-9_.-], commas break UI backfills); a name that had to change gets
a short hash so two shards never collide. Keys are derived, never stored, so assets and sensors agree
without shared state.

A provider controls what lands, links included: a symlink `videos/<id>.en.vtt -> /etc/...` would
publish a file from outside the zone. So every local path the zone hands out is resolved first and
must stay under the resolved root (`contained`); a file with a second name (a hard link: its other
name may lie anywhere on the disk) is refused too. Either is `OutsideLandingZone`, never followed.
Object stores have no links, and every key below the root is built from safe names.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field
from upath import UPath

from resources.containment import OutsideLandingZone
from resources.limits import check_size, copy_capped
from resources.settings import ConfigError

FINGERPRINT_EXEMPT = "which shards exist; a shard's content is hashed where it is read"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov", ".avi", ".m4v")


def safe_key(name: str) -> str:
    """A partition key (and path component) for `name`: never empty, never `.`/`..`-like."""
    key = _UNSAFE.sub("_", name).strip("_") or "shard"
    if key.startswith("."):
        key = "_" + key.lstrip(".")
    if key != name:
        key = f"{key[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return key


def safe_id(value: str) -> str:
    """An id taken from data, usable as a file name that cannot leave its folder."""
    return safe_key(str(value))


@dataclass(frozen=True)
class Shard:
    key: str
    uri: str
    fingerprint: str  # changes when the shard's content changes ("" when the lookup did not hash it)


def _fingerprint(p: UPath) -> str:
    """A local file's sha256 (a rewrite that keeps size and restores the mtime is still seen);
    an object's content tags (S3 ETag, GCS md5/crc32c/generation), which the store derives from
    the content, so no object is downloaded to list the zone."""
    if not _remote(p):
        try:
            st = os.stat(p.path)
        except OSError:
            return "missing"
        if not stat.S_ISREG(st.st_mode):  # a device or a fifo is never read to be hashed
            return f"not_a_file:{stat.S_IFMT(st.st_mode)}"
        # the change time cannot be set back by a provider, so (inode, size, mtime, ctime) keys
        # the hash cache: an unchanged file is hashed once per process (the first tick after a
        # restart reads every shard once), a rewritten one again
        return _content_sha(p.path, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    info = _info(p)
    parts = [str(info.get(k)) for k in ("size", "ETag", "etag", "md5Hash", "crc32c", "generation")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


_SHA_CACHE: dict[str, tuple[tuple[int, int, int, int], str]] = {}  # path -> (stat key, sha): one entry per file
_SHA_LOCK = threading.Lock()


def _content_sha(path: str, ino: int, size: int, mtime_ns: int, ctime_ns: int) -> str:
    key = (ino, size, mtime_ns, ctime_ns)
    with _SHA_LOCK:
        hit = _SHA_CACHE.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    h = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a fifo swapped in is never waited on
        with os.fdopen(fd, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
            st = os.fstat(f.fileno())
    except OSError as e:  # unreadable now: its own fingerprint, so it is looked at again once readable
        return f"unreadable:{type(e).__name__}"
    sha = h.hexdigest()[:16]
    if (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) == key:  # unchanged while read: cacheable
        with _SHA_LOCK:
            _SHA_CACHE[path] = (key, sha)
    return sha


class LandingZone(dg.ConfigurableResource):
    root: str = Field(description="Landing zone root: a folder, s3://bucket/prefix or gs://...")
    storage_options: dict[str, Any] = Field(default_factory=dict)
    cache_dir: str = Field(default=".data/cache/landing", description="Local copies of remote files.")
    allow_hard_links: bool = Field(default=False, description=(
        "Accept landed files that have more than one name. Off: a hard link's other name may be "
        "outside the landing zone, so its content is not the provider's to publish."))

    def path(self, *parts: str) -> UPath:
        return UPath(self.root, **self.storage_options).joinpath(*parts)

    def contained(self, p: UPath) -> UPath:
        """`p` itself, once it is known to stay inside the landing zone: resolved (every symlink on
        the way followed) it must lie under the resolved root, and a file must have one name only."""
        if _remote(p):
            return p
        root = os.path.realpath(UPath(self.root, **self.storage_options).path)
        real = os.path.realpath(p.path)
        if os.path.commonpath([root, real]) != root:
            raise OutsideLandingZone(f"{p.path} resolves to {real}, outside the landing zone {root}")
        try:
            st = os.stat(real)
        except FileNotFoundError:
            return p
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1 and not self.allow_hard_links:
            raise OutsideLandingZone(f"{p.path} is a hard link ({st.st_nlink} names; the others may lie "
                                     "outside the landing zone)")
        return p

    def _landed(self, p: UPath) -> bool:
        """Whether something is at `p`, a dangling link included (a link is judged, never skipped)."""
        return os.path.lexists(p.path) if not _remote(p) else p.exists()

    def require(self) -> UPath:
        root = self.path()
        if not root.exists():
            raise ConfigError(
                f"landing zone {self.root} does not exist; build the sample with `make corpus` "
                "or set MMFOUNDRY_LANDING"
            )
        return root

    # -- shards -----------------------------------------------------------------------------------

    def _listing(self, *parts: str) -> UPath:
        """A folder listed afresh: fsspec keeps one filesystem per set of options and caches its
        listings, so a long-lived sensor process would never see a shard land on s3:// or gs://."""
        folder = self.path(*parts)
        folder.fs.invalidate_cache()
        return folder

    def video_shards(self, fingerprints: bool = True) -> dict[str, Shard]:
        """Every landed video shard by partition key; without `fingerprints` (a step looking up its
        own shard) no file is hashed, so one shard's step never reads every other shard."""
        folder = self._listing("youtube_commons")
        if not folder.exists():
            return {}
        shards = {}
        for p in sorted(folder.iterdir(), key=lambda p: p.name):
            if p.name.endswith(".parquet") and not p.name.startswith("."):
                key = safe_key(p.name[: -len(".parquet")])
                shards[key] = Shard(key, str(p), self._fingerprint(p) if fingerprints else "")
        return shards

    def document_shards(self, fingerprints: bool = True) -> dict[str, Shard]:
        """Every landed PDFA shard folder by partition key (see `video_shards`)."""
        folder = self._listing("pdfa")
        if not folder.exists():
            return {}
        shards = {}
        for d in sorted(folder.iterdir(), key=lambda p: p.name):
            if d.is_dir() and not d.name.startswith("."):
                key = safe_key(d.name)
                digest = ""
                if fingerprints:
                    files = sorted(f.name for f in d.iterdir())
                    parts = "|".join(f"{n}:{self._fingerprint(d / n)}" for n in files)
                    digest = hashlib.sha256(parts.encode()).hexdigest()[:16]
                shards[key] = Shard(key, str(d), digest)
        return shards

    def _fingerprint(self, p: UPath) -> str:
        """A landed file's fingerprint; one that leaves the zone is named, never read."""
        try:
            self.contained(p)
        except OutsideLandingZone as e:
            return hashlib.sha256(str(e).encode()).hexdigest()[:16]
        return _fingerprint(p)

    def fetch(self, uri: str, max_bytes: int | None = None) -> Path:
        """A local file for a landing-zone URI (remote objects are downloaded once, and stop at
        `max_bytes`: `TooLarge`); a local path outside the zone is `OutsideLandingZone`."""
        return local_copy(self.contained(UPath(uri, **self.storage_options)), self.cache_dir, max_bytes)

    def video_shard(self, key: str) -> Shard | None:
        """The shard with partition key `key`, or None when it is no longer in the zone (withdrawn)."""
        self.require()
        return self.video_shards(fingerprints=False).get(key)

    def document_shard(self, key: str) -> Shard | None:
        """The shard with partition key `key`, or None when it is no longer in the zone (withdrawn)."""
        self.require()
        return self.document_shards(fingerprints=False).get(key)

    # -- media ------------------------------------------------------------------------------------

    def video_file(self, video_id: str) -> UPath | None:
        """`videos/<id>.<ext>`, or None; one that leaves the zone is `OutsideLandingZone`."""
        folder = self.path("videos")
        vid = safe_id(video_id)
        for ext in VIDEO_EXTENSIONS:
            p = folder / f"{vid}{ext}"
            if self._landed(p):
                return self.contained(p)
        return None

    def subtitle_file(self, video_id: str) -> UPath | None:
        """`videos/<id>.en.vtt`, or None; one that leaves the zone is `OutsideLandingZone`."""
        p = self.path("videos") / f"{safe_id(video_id)}.en.vtt"
        return self.contained(p) if self._landed(p) else None


def _info(p: UPath) -> dict[str, Any]:
    try:
        return p.fs.info(p.path)
    except FileNotFoundError:
        return {}


def _remote(p: UPath) -> bool:
    return p.protocol not in ("", "file", "local")


def local_copy(p: UPath, cache_dir: str, max_bytes: int | None = None) -> Path:
    """A local file for `p` (remote objects are downloaded once into `cache_dir`). Over `max_bytes`
    it is `TooLarge`: a local file by its size, a download as soon as it passes the cap (what it
    wrote is removed, so an endless stream costs the cap, never the disk)."""
    if not _remote(p):
        with contextlib.suppress(FileNotFoundError):
            check_size(os.stat(p.path).st_size, max_bytes, p.path)
        return Path(p.path)
    dest = Path(cache_dir) / hashlib.sha256(str(p).encode()).hexdigest()[:16] / p.name
    if not dest.exists():
        # HTTP(S) is read as one stream (block_size=0): fsspec's default ranged reads fail on
        # servers without Range support, which a plain download works with
        src = p.fs.open(p.path, "rb", block_size=0) if p.protocol in ("http", "https") else p.open("rb")
        with src:
            copy_capped(src, dest, max_bytes, str(p))
    return dest
