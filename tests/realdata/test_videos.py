"""Every real video's published facts (display size, rotation, frame count, fps, timestamps, a clean
error for a corrupt file) against what this project measures; rows in tests/realdata/videos.py."""

from __future__ import annotations

import pytest

from tests.realdata import videos
from tests.realdata.rowtable import REALDATA, require_realdata

ROWS = videos.rows() if (REALDATA / videos.KIND).is_dir() else []


def test_the_real_videos_are_there():
    folder = require_realdata(videos.KIND)
    assert any(folder.glob("*.expect.json")), f"no sidecars in {folder}"
    assert ROWS, "no published fact was checked"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.file}: {r.check}" for r in ROWS])
def test_published_fact(row):
    assert row.passed, f"{row.file} {row.check}: expected {row.expected}, measured {row.measured}"
