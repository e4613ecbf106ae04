"""The FineVideo content taxonomy: leaves keyed by their full path.

Only 123 of the 126 leaf names are unique (`Short Films`, `Game Reviews`, `Travel Vlogs` sit under two
parents each), so a bare name cannot identify a category: everything downstream uses the path
joined with " > ". A few categories exist only to be discarded (FineVideo had weapons and drugs):
a labeller may route a video there, and the label screen rejects it. They are either marked leaves
of the approved file or extra paths added by configuration. The version is a content hash of both
(a version of the taxonomy, not a record id), so any edit re-labels through the labels' code
version. A leaf's record id is `leaf:<path>`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from assets.kit.identity import record_id_expr
from assets.kit.provenance import declare

SEPARATOR = " > "
TAXONOMY_FILE = Path(__file__).with_name("finevideo_taxonomy.json")
# FineVideo's discard-only categories; the approved file has no such leaves, so they are added
DEFAULT_DISCARD_ONLY = ("Discard Only > Weapons & Firearms", "Discard Only > Drugs & Substance Use")


def leaf_paths(tree: Mapping, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf (a key whose value is `{}`) as its path from the root, in file order."""
    out: list[tuple[str, ...]] = []
    for name, child in tree.items():
        if not isinstance(child, Mapping):
            raise ValueError(f"taxonomy node {SEPARATOR.join((*prefix, name))!r} is not an object")
        path = (*prefix, name.strip())
        out.extend([path] if not child else leaf_paths(child, path))
    return out


def join_path(parts: Iterable[str]) -> str:
    return SEPARATOR.join(parts)


def split_path(path: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in path.split(SEPARATOR.strip()) if p.strip())


def load_tree(path: str | Path = TAXONOMY_FILE) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def taxonomy_version(tree: Mapping, discard_only: Iterable[str]) -> str:
    canonical = json.dumps([tree, sorted(discard_only)], sort_keys=False, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def taxonomy_frame(tree: Mapping, discard_only: Iterable[str] = DEFAULT_DISCARD_ONLY) -> pl.DataFrame:
    """One row per leaf: record_id, leaf_path, top, mid (null for a two-level leaf), leaf, depth,
    discard_only, taxonomy_version, and the provenance contract (a leaf is built from no record).
    A discard-only path not in the file becomes an extra leaf."""
    discard = [join_path(split_path(p)) for p in discard_only]
    paths = leaf_paths(tree)
    known = {join_path(p) for p in paths}
    if len(known) != len(paths):
        raise ValueError("taxonomy has two leaves with the same full path")
    paths += [split_path(p) for p in discard if p not in known]
    if any(len(p) < 2 for p in paths):
        raise ValueError("every taxonomy leaf needs at least a top-level parent")
    version = taxonomy_version(tree, discard)
    df = pl.DataFrame(
        {
            "leaf_path": [join_path(p) for p in paths],
            "top": [p[0] for p in paths],
            "mid": [p[1] if len(p) > 2 else None for p in paths],
            "leaf": [p[-1] for p in paths],
            "depth": [len(p) for p in paths],
            "discard_only": [join_path(p) in set(discard) for p in paths],
            "taxonomy_version": [version] * len(paths),
        },
        schema={"leaf_path": pl.String, "top": pl.String, "mid": pl.String, "leaf": pl.String,
                "depth": pl.Int32, "discard_only": pl.Boolean, "taxonomy_version": pl.String},
    )
    return declare(df.select(record_id_expr("leaf", "leaf_path").alias("record_id"), pl.all()))


# the version of the approved file with the default discard list, for code versions
APPROVED_VERSION = taxonomy_version(load_tree(), [join_path(split_path(p)) for p in DEFAULT_DISCARD_ONLY])
