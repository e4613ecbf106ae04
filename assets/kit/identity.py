"""Record identity, minted in one place (DESIGN principle 5).

`record_id(namespace, *parts)` is `namespace:part:part...` with `%` and `:` percent-escaped in
each part, so the mapping from (namespace, parts) to id is injective: two different landed rows
cannot share an id, by construction rather than by the odds of a truncated hash, and an id can be
read (and parsed back) by a person running `make audit`. A row is identified by where it landed
(the shard and its position or key there), so the same video landed in two shards is two
records; what they share is their `source_key` (`yt:<video id>`), which de-duplication reads.

A record built from another nests the parent's id as one part, so lineage is legible in the id
itself (`scene:video%3As1%3Aabc:3` is scene 3 of `video:s1:abc`).
"""

from __future__ import annotations

import re

import polars as pl

SEP = ":"
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*$")


def _check_namespace(namespace: str) -> None:
    if not _NAMESPACE.match(namespace):
        raise ValueError(f"record namespace {namespace!r} must match {_NAMESPACE.pattern}")


def escape(part: object) -> str:
    if part is None:
        raise ValueError("a record id part cannot be null")
    return str(part).replace("%", "%25").replace(SEP, "%3A")


def unescape(part: str) -> str:
    return part.replace("%3A", SEP).replace("%25", "%")


def record_id(namespace: str, *parts: object) -> str:
    _check_namespace(namespace)
    if not parts:
        raise ValueError("a record id needs at least one part")
    return SEP.join([namespace, *(escape(p) for p in parts)])


def parse_record_id(rid: str) -> tuple[str, tuple[str, ...]]:
    namespace, *parts = rid.split(SEP)
    return namespace, tuple(unescape(p) for p in parts)


def _escaped(part: str | pl.Expr) -> pl.Expr:
    expr = pl.col(part) if isinstance(part, str) else part
    return expr.cast(pl.String).str.replace_all("%", "%25", literal=True).str.replace_all(SEP, "%3A", literal=True)


def record_id_expr(namespace: str, *parts: str | pl.Expr) -> pl.Expr:
    """The column form of `record_id`: parts are column names or expressions; a null part gives a
    null id (a row that cannot be identified is the caller's to reject, never to merge)."""
    _check_namespace(namespace)
    if not parts:
        raise ValueError("a record id needs at least one part")
    return pl.concat_str([pl.lit(namespace), *(_escaped(p) for p in parts)], separator=SEP, ignore_nulls=False)


def source_key(namespace: str, key: object) -> str:
    """The identity of the source behind a row (a video id, a document key), shared by every
    landing of that source: what cross-shard de-duplication compares."""
    return record_id(namespace, key)


def source_key_expr(namespace: str, key: str | pl.Expr) -> pl.Expr:
    return record_id_expr(namespace, key)
