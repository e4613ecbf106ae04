"""Caps on what a landed input may cost, and the one name a breach is recorded under.

A provider controls sizes: a 6 MB PDF can inflate to gigabytes, a small gzip tar can hold a
1.5 GB member, an HTTP "video" can stream forever and a server can accept a connection and never
answer. Every reader streams with a cap and stops at it, so the input becomes a row rejected as
`too_large` (or `unreachable` for a time-out) instead of a process the OOM killer ends; what a
stopped download wrote is removed. The caps themselves are rule or resource parameters where they
are used, so a run can raise them.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

TOO_LARGE = "too_large"
CHUNK = 1 << 20


class TooLarge(ValueError):
    """An input over a configured cap; the message says which cap and how far it got."""

    reason = TOO_LARGE


def copy_capped(src: IO[bytes], dest: Path, max_bytes: int | None, what: str) -> int:
    """Stream `src` into `dest` (written whole or not at all, as every store write); stop at `max_bytes`."""
    from upath import UPath  # here, not at the top: the pure readers import this module without Dagster

    from resources.storage import atomic_write

    written = 0

    def write(out) -> None:
        nonlocal written
        while chunk := src.read(CHUNK):
            written += len(chunk)
            if max_bytes is not None and written > max_bytes:
                raise TooLarge(f"{what}: more than {max_bytes} bytes (stopped at {written})")
            out.write(chunk)

    atomic_write(UPath(dest), write)
    return written


def read_capped(src: IO[bytes], max_bytes: int | None, what: str) -> bytes:
    """All of `src`, unless it holds more than `max_bytes`."""
    data = src.read(max_bytes + 1) if max_bytes is not None else src.read()
    if max_bytes is not None and len(data) > max_bytes:
        raise TooLarge(f"{what}: more than {max_bytes} bytes")
    return data


def check_size(size: int | None, max_bytes: int | None, what: str) -> None:
    if size is not None and max_bytes is not None and size > max_bytes:
        raise TooLarge(f"{what}: {size} bytes > {max_bytes}")


def http_options(options: dict[str, Any], connect_s: float, read_s: float) -> dict[str, Any]:
    """fsspec HTTP options with connect and read time-outs (aiohttp's default waits 300 s for a
    server that accepted the connection and sends nothing), unless the caller set its own timeout;
    other client options the caller set are kept."""
    client = dict(options.get("client_kwargs") or {})
    if "timeout" in client:
        return options
    import aiohttp

    client["timeout"] = aiohttp.ClientTimeout(total=None, sock_connect=connect_s, sock_read=read_s)
    return {**options, "client_kwargs": client}

