"""Every real subtitle file's published cues (count, start/end, text, identifiers) and speakers
(voice spans, dialogue dashes) against what this project reads; rows in tests/realdata/subtitles.py."""

from __future__ import annotations

import pytest

from tests.realdata import subtitles
from tests.realdata.rowtable import REALDATA, require_realdata

ROWS = subtitles.rows() if (REALDATA / subtitles.KIND).is_dir() else []


def test_the_real_subtitle_files_are_there():
    folder = require_realdata(subtitles.KIND)
    files = list(subtitles.files(folder))
    assert files, f"no sidecars in {folder}"
    checked = {r.file for r in ROWS}
    assert checked == {p.name for p in files}, f"files without a published fact checked: {sorted({p.name for p in files} - checked)}"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.file}: {r.check}" for r in ROWS])
def test_published_fact(row):
    assert row.passed, f"{row.file} {row.check}: expected {row.expected}, measured {row.measured}"
