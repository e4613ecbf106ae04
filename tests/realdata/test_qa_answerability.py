"""Answerability precision of generated Q/A pairs on real PDF pages, against hand labels."""

from __future__ import annotations

import pytest

from tests.realdata.qa_answerability import MIN_COVERAGE, TARGET_PRECISION, figures, labels
from tests.realdata.rowtable import require_realdata


@pytest.fixture(scope="module")
def measured():
    return figures(require_realdata("pdfs"))


def test_labels_are_enough_and_well_formed():
    rows = labels()
    assert len(rows) >= 50
    assert {r["label"] for r in rows} == {0, 1}  # both kinds, or precision could not fail
    assert all(r.get("note") for r in rows)  # every label says what the page shows


def test_the_default_profile_beats_docmatix_regexes_on_every_labelled_pair(measured):
    previous, regex, default, _ = measured
    assert default.precision >= TARGET_PRECISION, default
    assert default.precision > regex.precision and default.precision > previous.precision
    assert default.labelled >= 20  # the filter keeps enough pairs to judge it on


def test_current_generator_and_filter_reach_the_target(measured):
    current = measured[3]
    assert current.coverage >= MIN_COVERAGE, f"label the new kept pairs: {current}"
    assert current.precision >= TARGET_PRECISION, current
