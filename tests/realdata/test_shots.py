"""Shot cuts of the real videos with a known cut list, and of the sample corpus, against those lists
(within 1 frame, no false cut); rows in tests/realdata/shots.py."""

from __future__ import annotations

import json

import pytest

from tests.realdata import shots
from tests.realdata.rowtable import REALDATA, require_realdata

ROWS = shots.rows() if (REALDATA / shots.KIND).is_dir() else []


def test_a_published_cut_list_is_checked():
    folder = require_realdata(shots.KIND)
    assert any(shots.expected_cuts(json.loads(p.read_text(encoding="utf-8"))) is not None
               for p in folder.glob("*.expect.json")), f"no sidecar in {folder} publishes cuts"
    assert any(r.check.startswith("cuts") and "corpus" not in r.file for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.file}: {r.check}" for r in ROWS])
def test_published_cuts(row):
    assert row.passed, f"{row.file} {row.check}: expected {row.expected}, measured {row.measured}"


def test_matching_is_one_to_one_within_a_frame():
    m = shots.match([10, 20, 30], [9, 11, 21, 45])
    assert (m.hits, m.false, m.missed) == (2, [11, 45], [30])
    assert m.precision == 0.5 and m.recall == pytest.approx(2 / 3)
