"""`make realdata`: one table per kind of real file (file, check, expected, measured, pass), from the
same rows the tests in tests/realdata/ assert on. Expected values are what each file's upstream
project publishes (its `.expect.json`); measured values are this project's.

Usage: python -m scripts.realdata [--markdown] [--by-file] [KIND ...]
(kinds: videos, shots, subtitles, pdfs, qa_answerability, qa; default all). `--by-file` folds each file's checks into one row
(how many pass, which fail); `--markdown` prints the tables as the README shows them.
"""

from __future__ import annotations

import importlib
import sys
import time

from scripts.demo import print_table
from tests.realdata.rowtable import REALDATA

KINDS = ("videos", "shots", "subtitles", "pdfs", "qa_answerability", "qa")
SHOWN = 60  # characters of an expected or measured value in the table


def _cut(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= SHOWN else flat[: SHOWN - 1] + "…"


def by_file(rows: list) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    files: dict[str, list] = {}
    for r in rows:
        files.setdefault(r.file, []).append(r)
    return ("file", "checks", "pass", "failing"), [
        (f, str(len(rs)), str(sum(r.passed for r in rs)), ", ".join(r.check for r in rs if not r.passed) or "-")
        for f, rs in files.items()]


def markdown(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print("| " + " | ".join(cell(c) for c in r) + " |")


def main(argv: list[str]) -> int:
    if not REALDATA.is_dir():
        print(f"realdata: no real data at {REALDATA} (set MMFOUNDRY_REALDATA)", file=sys.stderr)
        return 2
    as_markdown, folded = "--markdown" in argv, "--by-file" in argv
    kinds = [a for a in argv if not a.startswith("--")] or list(KINDS)
    failed = 0
    for kind in kinds:
        started = time.perf_counter()
        rows = importlib.import_module(f"tests.realdata.{kind}").rows()
        passed = sum(r.passed for r in rows)
        failed += len(rows) - passed
        print(f"\n== {kind}: {passed}/{len(rows)} checks pass ({time.perf_counter() - started:.0f} s) ==")
        header, table = (by_file(rows) if folded else
                         (("file", "check", "expected", "measured", "pass"),
                          [(r.file, r.check, _cut(r.expected), _cut(r.measured), "yes" if r.passed else "NO")
                           for r in rows]))
        (markdown if as_markdown else print_table)(header, table)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
