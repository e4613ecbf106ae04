"""Record identity, minted in one place (DESIGN principle 5).

`record_id(namespace, *parts)` is `namespace:part:part...`. A part that is itself a record id (a
parent) is nested in parentheses as it is; any other part is escaped (`%`, `:`, `(` and `)` become
`%25`, `%3A`, `%28`, `%29`). A part is nested exactly when it is the canonical id of something, so
the mapping from (namespace, parts) to id is injective: two different landed rows cannot share an
id, by construction rather than by the odds of a truncated hash. Ids stay readable when nested
(`scene:(yt:s1:abc:0):3` is scene 3 of video `yt:s1:abc:0`) and parse back with `parse_record_id`.

A row is identified by where it landed (the shard and its position or key there), so the same
video landed in two shards is two records; what they share is their `source_key` (`yt:<video id>`),
which de-duplication reads.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

SEP = ":"
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]*$")
_LOOKS_NESTED = r"^[a-z][a-z0-9_]*:"
_ESCAPES = (("%", "%25"), (SEP, "%3A"), ("(", "%28"), (")", "%29"))


def _check_namespace(namespace: str) -> None:
    if not _NAMESPACE.match(namespace):
        raise ValueError(f"record namespace {namespace!r} must match {_NAMESPACE.pattern}")


def escape(part: str) -> str:
    for raw, coded in _ESCAPES:
        part = part.replace(raw, coded)
    return part


def unescape(part: str) -> str:
    for raw, coded in reversed(_ESCAPES):
        part = part.replace(coded, raw)
    return part


def _segments(rid: str) -> list[str]:
    """`rid` split at the separators outside parentheses; ValueError when unbalanced."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(rid):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in {rid!r}")
        elif ch == SEP and depth == 0:
            out.append(rid[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in {rid!r}")
    return [*out, rid[start:]]


def parse_record_id(rid: str) -> tuple[str, tuple[str, ...]]:
    namespace, *segments = _segments(rid)
    _check_namespace(namespace)
    parts = []
    for seg in segments:
        if seg.startswith("(") and seg.endswith(")"):
            parts.append(seg[1:-1])
        elif "(" in seg or ")" in seg:
            raise ValueError(f"{seg!r} in {rid!r} is neither escaped nor a nested id")
        else:
            parts.append(unescape(seg))
    if not parts:
        raise ValueError(f"{rid!r} has no parts")
    return namespace, tuple(parts)


def is_record_id(text: str) -> bool:
    """True when `text` is the canonical id of some (namespace, parts)."""
    if not re.match(_LOOKS_NESTED, text):
        return False
    try:
        return record_id(*_flatten(parse_record_id(text))) == text
    except ValueError:
        return False


def _flatten(parsed: tuple[str, tuple[str, ...]]) -> tuple[str, ...]:
    return (parsed[0], *parsed[1])


def _encode(part: object) -> str:
    if part is None:
        raise ValueError("a record id part cannot be null")
    text = str(part)
    return f"({text})" if is_record_id(text) else escape(text)


def record_id(namespace: str, *parts: object) -> str:
    _check_namespace(namespace)
    if not parts:
        raise ValueError("a record id needs at least one part")
    return SEP.join([namespace, *(_encode(p) for p in parts)])


def _encoded(part: str | pl.Expr) -> pl.Expr:
    import polars as pl

    text = (pl.col(part) if isinstance(part, str) else part).cast(pl.String)
    escaped = text
    for raw, coded in _ESCAPES:
        escaped = escaped.str.replace_all(raw, coded, literal=True)

    def nested(values: pl.Series) -> pl.Series:
        # only values shaped like `ns:...` can be ids; each distinct one is checked once
        candidates = values.filter(values.str.contains(_LOOKS_NESTED)).unique().to_list()
        ids = [c for c in candidates if is_record_id(c)]
        return values.is_in(ids).fill_null(False)

    flag = text.map_batches(nested, return_dtype=pl.Boolean)
    return pl.when(flag).then(pl.concat_str([pl.lit("("), text, pl.lit(")")])).otherwise(escaped)


def record_id_expr(namespace: str, *parts: str | pl.Expr) -> pl.Expr:
    """The column form of `record_id` (the same ids): parts are column names or expressions; a
    null part gives a null id (a row that cannot be identified is the caller's to reject, never to
    merge)."""
    import polars as pl  # the GPU node mints ids without polars installed

    _check_namespace(namespace)
    if not parts:
        raise ValueError("a record id needs at least one part")
    return pl.concat_str([pl.lit(namespace), *(_encoded(p) for p in parts)], separator=SEP, ignore_nulls=False)


def source_key(namespace: str, key: object) -> str:
    """The identity of the source behind a row (a video id, a document key), shared by every
    landing of that source: what cross-shard de-duplication compares."""
    return record_id(namespace, key)


def source_key_expr(namespace: str, key: str | pl.Expr) -> pl.Expr:
    return record_id_expr(namespace, key)
