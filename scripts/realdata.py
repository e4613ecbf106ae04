"""`make realdata`: one table per kind of real file (file, check, expected, measured, pass), from the
same rows the tests in tests/realdata/ assert on. Expected values are what each file's upstream
project publishes (its `.expect.json`); measured values are this project's.

Usage: python -m scripts.realdata [KIND ...]   (kinds: videos, shots, subtitles; default all)
"""

from __future__ import annotations

import importlib
import sys
import time

from scripts.demo import print_table
from tests.realdata.rowtable import REALDATA

KINDS = ("videos", "shots", "subtitles")
SHOWN = 60  # characters of an expected or measured value in the table


def _cut(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= SHOWN else flat[: SHOWN - 1] + "…"


def main(argv: list[str]) -> int:
    if not REALDATA.is_dir():
        print(f"realdata: no real data at {REALDATA} (set MMFOUNDRY_REALDATA)", file=sys.stderr)
        return 2
    kinds = argv or list(KINDS)
    failed = 0
    for kind in kinds:
        started = time.perf_counter()
        rows = importlib.import_module(f"tests.realdata.{kind}").rows()
        passed = sum(r.passed for r in rows)
        failed += len(rows) - passed
        print(f"\n== {kind}: {passed}/{len(rows)} checks pass ({time.perf_counter() - started:.0f} s) ==")
        print_table(("file", "check", "expected", "measured", "pass"),
                    [(r.file, r.check, _cut(r.expected), _cut(r.measured), "yes" if r.passed else "NO")
                     for r in rows])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
