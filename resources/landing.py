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

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field
from upath import UPath

from resources.containment import OutsideLandingZone
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
    fingerprint: str  # changes when the shard's content may have changed (size + mtime)


def _fingerprint(info: dict[str, Any]) -> str:
    parts = [str(info.get(k)) for k in ("size", "mtime", "LastModified", "updated", "ETag", "etag")]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


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

    def video_shards(self) -> dict[str, Shard]:
        folder = self._listing("youtube_commons")
        if not folder.exists():
            return {}
        shards = {}
        for p in sorted(folder.iterdir(), key=lambda p: p.name):
            if p.name.endswith(".parquet") and not p.name.startswith("."):
                key = safe_key(p.name[: -len(".parquet")])
                shards[key] = Shard(key, str(p), _fingerprint(_info(p)))
        return shards

    def document_shards(self) -> dict[str, Shard]:
        folder = self._listing("pdfa")
        if not folder.exists():
            return {}
        shards = {}
        for d in sorted(folder.iterdir(), key=lambda p: p.name):
            if d.is_dir() and not d.name.startswith("."):
                files = sorted(f.name for f in d.iterdir())
                sizes = "|".join(f"{n}:{_fingerprint(_info(d / n))}" for n in files)
                key = safe_key(d.name)
                shards[key] = Shard(key, str(d), hashlib.sha256(sizes.encode()).hexdigest()[:16])
        return shards

    def fetch(self, uri: str) -> Path:
        """A local file for a landing-zone URI (remote objects are downloaded once); a local path
        outside the zone is `OutsideLandingZone`."""
        return local_copy(self.contained(UPath(uri, **self.storage_options)), self.cache_dir)

    def video_shard(self, key: str) -> Shard:
        self.require()
        try:
            return self.video_shards()[key]
        except KeyError:
            raise ConfigError(f"no youtube_commons shard with key {key!r} in {self.root}") from None

    def document_shard(self, key: str) -> Shard:
        self.require()
        try:
            return self.document_shards()[key]
        except KeyError:
            raise ConfigError(f"no pdfa shard with key {key!r} in {self.root}") from None

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


def local_copy(p: UPath, cache_dir: str) -> Path:
    """A local file for `p` (remote objects are downloaded once into `cache_dir`)."""
    if not _remote(p):
        return Path(p.path)
    dest = Path(cache_dir) / hashlib.sha256(str(p).encode()).hexdigest()[:16] / p.name
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        # an interrupted download must not stay behind looking like a cached copy
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            p.fs.get_file(p.path, str(tmp))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
    return dest
