"""One storage contract: Parquet for tables, a content-addressed store for media.

dagster-polars cannot read with polars 2, so the Parquet IO manager is ours: a `UPathIOManager`
that works the same on a local folder, `s3://` (s3fs) and `gs://` (gcsfs). Every write is atomic on
a local disk (temp file + rename) so a run killed mid-write never leaves a half Parquet file behind,
and every write refreshes the DuckDB view named after the asset.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, NamedTuple, get_args, get_origin

import dagster as dg
import polars as pl
from pydantic import Field
from upath import UPath

from assets.kit.shard_frames import scan_file
from resources import warehouse

FINGERPRINT_EXEMPT = "where bytes are kept, content-addressed: never what they are"

_CHUNK = 1 << 20


def make_upath(uri: str, storage_options: dict[str, Any] | None = None) -> UPath:
    return UPath(uri, **(storage_options or {}))


def is_local(path: UPath) -> bool:
    return path.protocol in ("", "file", "local")


def atomic_write(path: UPath, write) -> None:
    """Write through `write(fileobj)`; on a local disk the file appears whole or not at all."""
    if not is_local(path):
        with path.open("wb") as f:
            write(f)
        return
    target = Path(path.path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ParquetUPathIOManager(dg.UPathIOManager):
    extension = ".parquet"

    def __init__(self, base_path: UPath, warehouse_path: str | None):
        super().__init__(base_path=base_path)
        self._warehouse_path = warehouse_path

    def make_safe_partition_path(self, base_path: UPath, partition: str) -> UPath:
        """A partition key is data (a shard name): it never climbs out of the asset's folder."""
        return base_path / warehouse.partition_segment(partition)

    def dump_to_path(self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame, path: UPath) -> None:
        """A DataFrame is written; a LazyFrame (a table larger than memory) is streamed batch by batch."""
        if isinstance(obj, pl.LazyFrame):
            atomic_write(path, lambda f: obj.sink_parquet(f))
            return
        if not isinstance(obj, pl.DataFrame):
            raise TypeError(
                f"{context.asset_key.to_user_string() if context.has_asset_key else 'output'} returned "
                f"{type(obj).__name__}; the Parquet IO manager stores polars DataFrames and LazyFrames only"
            )
        atomic_write(path, lambda f: obj.write_parquet(f))

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pl.DataFrame:
        with path.open("rb") as f:
            return pl.read_parquet(f)

    def load_partitions(self, context: dg.InputContext):
        """A fan-in (a step reading many shards) gets the shards that have an output: a shard whose
        step failed, was skipped behind a failed check or was killed has no file, and one broken
        shard must not stop every release (the fan-in names the shards left out,
        assets/kit/shard_coverage.py). A `dict[str, DataFrame]` input is always a dict, even of one
        shard; an untyped input of one shard is that frame (None when it has no output). A
        per-shard step (reading its own shard) still needs that shard's file. An input typed
        `dict[str, pl.LazyFrame]` gets each file as a lazy scan (assets/kit/shard_frames.py)."""
        typing_type = context.dagster_type.typing_type
        as_dict = get_origin(typing_type) is dict
        lazy = as_dict and get_args(typing_type)[1:] == (pl.LazyFrame,)
        keys = list(context.asset_partition_keys)
        if context.has_partition_key and keys == [context.partition_key] and not as_dict:
            return super().load_partitions(context)
        loaded = {}
        for key, path in self._get_paths_for_partitions(context).items():
            try:
                if not lazy:
                    loaded[key] = self.load_from_path(context, path)
                elif path.exists():
                    loaded[key] = scan_file(path.fs, path.path)
                else:
                    raise FileNotFoundError(path)
            except FileNotFoundError:
                context.log.warning(f"shard {key} of {context.asset_key.to_user_string()} has no output; "
                                    "left out of this fan-in")
        if not as_dict and len(keys) == 1:
            return next(iter(loaded.values()), None)
        return loaded

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        super().handle_output(context, obj)
        if self._warehouse_path and context.has_asset_key:
            key_path = context.asset_key.path
            warehouse.try_register_asset_view(
                self._warehouse_path,
                key_path,
                self._source_glob(key_path, partitioned=context.has_asset_partitions),
                log=context.log,
                fs=None if is_local(self._base_path) else self._base_path.fs,
            )

    def _source_glob(self, key_path: list[str], partitioned: bool) -> str:
        base = self._base_path.joinpath(*key_path)
        return f"{base}/*.parquet" if partitioned else f"{base}.parquet"


class ParquetIOManager(dg.ConfigurableIOManagerFactory):
    """Polars DataFrames as Parquet under `base_path` (a folder, s3://bucket/prefix or gs://...)."""

    base_path: str
    warehouse_path: str | None = Field(
        default=None, description="DuckDB file in which each asset gets a view; None to skip."
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict, description="fsspec options, e.g. {'endpoint_url': ...} for S3."
    )

    def create_io_manager(self, context: dg.InitResourceContext) -> ParquetUPathIOManager:
        return ParquetUPathIOManager(
            make_upath(self.base_path, self.storage_options), self.warehouse_path
        )


class MediaRef(NamedTuple):
    uri: str
    sha256: str
    size: int


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class MediaStore(dg.ConfigurableResource):
    """Files addressed by their sha256: storing the same bytes twice costs nothing and a URI never
    points at changed content. Remote objects are fetched once into a local read cache."""

    root: str
    cache_dir: str = Field(default=".data/cache/media", description="Local copies of remote media.")
    storage_options: dict[str, Any] = Field(default_factory=dict)

    def _root(self) -> UPath:
        return make_upath(self.root, self.storage_options)

    def _object(self, sha: str, suffix: str) -> UPath:
        # a suffix can come from a landed file's name: letters and digits only, so never a path
        clean = re.sub(r"[^a-z0-9]", "", suffix.lower())[:16]
        return self._root() / sha[:2] / (f"{sha}.{clean}" if clean else sha)

    def uri_of(self, obj: UPath) -> str:
        return Path(obj.path).as_uri() if is_local(obj) else str(obj)

    def put_file(self, src: str | os.PathLike, suffix: str | None = None) -> MediaRef:
        src = Path(src)
        sha = sha256_file(src)
        obj = self._object(sha, src.suffix if suffix is None else suffix)
        size = src.stat().st_size
        if not obj.exists():
            if is_local(obj):
                atomic_write(obj, lambda f: _copy_into(src, f))
            else:
                obj.fs.put_file(str(src), obj.path)
        return MediaRef(self.uri_of(obj), sha, size)

    def put_bytes(self, data: bytes, suffix: str) -> MediaRef:
        sha = hashlib.sha256(data).hexdigest()
        obj = self._object(sha, suffix)
        if not obj.exists():
            atomic_write(obj, lambda f: f.write(data))
        return MediaRef(self.uri_of(obj), sha, len(data))

    def exists(self, uri: str) -> bool:
        return make_upath(uri, self.storage_options).exists()

    def local_path(self, uri: str) -> Path:
        """A local file for `uri`, downloading remote objects once (named by their sha)."""
        obj = make_upath(uri, self.storage_options)
        if is_local(obj):
            return Path(obj.path)
        local = Path(self.cache_dir) / obj.name
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            tmp = local.with_name(f".{local.name}.{os.getpid()}.tmp")
            obj.fs.get_file(obj.path, str(tmp))
            os.replace(tmp, local)
        return local


def _copy_into(src: Path, f) -> None:
    with open(src, "rb") as s:
        shutil.copyfileobj(s, f, _CHUNK)
