"""What the real-data suite reports: one row per checked fact of a real file, the value its upstream
project publishes beside the value this project measures. `make realdata` prints the rows as tables;
the tests assert every row passes."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REALDATA = Path(os.environ.get("MMFOUNDRY_REALDATA", Path(__file__).resolve().parents[3] / "shared" / "realdata"))


@dataclass(frozen=True)
class Row:
    file: str
    check: str
    expected: str
    measured: str
    passed: bool


def require_realdata(kind: str) -> Path:
    """The folder of `kind` (videos, subtitles, pdfs, qa); pytest skips with the reason when absent."""
    folder = REALDATA / kind
    if not folder.is_dir():
        import pytest

        pytest.skip(f"no real data at {folder} (set MMFOUNDRY_REALDATA to the shared/realdata folder)")
    return folder


def crashed(file: str, check, error: Exception) -> Row:
    """A check that crashed is a failed row naming the file and the check, not a lost table."""
    name = check.__name__.strip("_").removesuffix("_rows").removesuffix("_row")
    return Row(file, name, "no crash", f"crashed: {type(error).__name__}: {str(error)[:200]}", False)


def checked_rows(name: str, checks, usable, *args) -> list[Row]:
    """Every check's rows for one file, `check(name, *args)`. The first check says whether the file
    opens; the others run only while `usable()` holds (a file that does not open has its error row
    and nothing else to measure). A crash is a failed row, not a lost table."""
    rows: list[Row] = []
    for i, check in enumerate(checks):
        try:
            if i and not usable():
                continue
            rows += check(name, *args)
        except Exception as e:  # noqa: BLE001 - a crash is a failed row, not a lost table
            rows.append(crashed(name, check, e))
    return rows


def sidecar_rows(kind: str, file_rows) -> list[Row]:
    """`file_rows(sidecar)` for every `<file>.expect.json` of `kind`, in name order."""
    return [r for sidecar in sorted((REALDATA / kind).glob("*.expect.json")) for r in file_rows(sidecar)]
