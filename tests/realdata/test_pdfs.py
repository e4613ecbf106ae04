"""Every real PDF's published facts (text strings, table cells, text direction) against what the
`documents` step reads, text gate and OCR included; no kept page with a garbled text layer; a
scanned page yields text and grounding boxes. Rows in tests/realdata/pdfs.py."""

from __future__ import annotations

import pytest

from tests.realdata import pdfs
from tests.realdata.rowtable import REALDATA, require_realdata

ROWS = pdfs.rows() if (REALDATA / pdfs.KIND).is_dir() else []


def test_the_real_pdfs_are_there():
    folder = require_realdata(pdfs.KIND)
    assert any(folder.glob("*.expect.json")), f"no sidecars in {folder}"
    assert ROWS, "no published fact was checked"


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.file}: {r.check}" for r in ROWS])
def test_published_fact(row):
    assert row.passed, f"{row.file} {row.check}: expected {row.expected}, measured {row.measured}"
