"""Real NExT-QA questions against the blind-bias detector; rows in tests/realdata/qa.py. The tests
use the questions of the file's first videos (about 2,500 questions, whole videos) to keep the suite
short; `make realdata` and `bench.run_all cinepile` run all 8,564."""

from __future__ import annotations

import pytest

from tests.realdata import qa
from tests.realdata.rowtable import REALDATA

LIMIT = 2500
ROWS = qa.rows(limit=LIMIT) if (REALDATA / qa.KIND / qa.FILE).is_file() else []


def test_the_real_questions_are_there():
    from tests.realdata.rowtable import require_realdata

    assert (require_realdata(qa.KIND) / qa.FILE).is_file()
    assert ROWS and qa.measure(LIMIT)["questions"] >= LIMIT


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.file}: {r.check}" for r in ROWS])
def test_detector_on_real_questions(row):
    assert row.passed, f"{row.file} {row.check}: expected {row.expected}, measured {row.measured}"
