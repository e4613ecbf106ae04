"""The independent labeler reads digits from pixels, on handwriting it never saw, and its
verdicts on claims are measured against the annotation."""

import numpy as np
import pytest

from assets.training import claim_labeler as cl
from assets.training import digit_scenes as ds


@pytest.fixture(scope="module")
def trained():
    pool, images = ds.load_digit_pool(0), ds.digit_images()
    x, y = cl.crops_of_scenes(pool["train"], 600, seed=1, scale=2, images=images)
    return cl.CellClassifier.train(x, y, seed=0), pool, images


def test_cells_are_cut_at_the_grid_and_scale_back_to_the_canvas():
    scene = ds.Scene("s", "test", (ds.Placed(3, 4, 14, 15, 0),))
    for scale in (1, 2):
        crops = cl.cell_crops(ds.render(scene, ds.digit_images(), scale))
        assert crops.shape == (9, 64)
        assert crops[4].max() > 0.5 and np.all(np.delete(crops, 4, axis=0) == 0)
    assert list(cl.cell_labels(scene)) == [10, 10, 10, 10, 3, 10, 10, 10, 10]


def test_labeler_reads_unseen_handwriting_and_its_error_is_measured(trained):
    clf, pool, images = trained
    x, y = cl.crops_of_scenes(pool["test"], 300, seed=2, scale=2, images=images)
    err = cl.error_rates(clf, x, y)
    assert err["cells"] == 2700 and err["empty_cell_error"] < 0.01 and err["digit_cell_error"] < 0.1
    assert err["digit_read_as_other_digit"] <= err["digit_cell_error"]
    # weights round-trip as plain arrays
    again = cl.CellClassifier.from_bytes(clf.to_bytes())
    assert np.array_equal(again.predict(x[:50]), clf.predict(x[:50]))


def test_reading_a_png_and_judging_claims_against_the_annotation(trained):
    clf, pool, images = trained
    scene = ds.Scene("s", "test", (ds.Placed(0, 0, 1, 2, pool["test"][0][0]), ds.Placed(1, 8, 27, 26, pool["test"][1][0])))
    png = ds.png_bytes(ds.render(scene, images, 2))
    seen = cl.reading(clf, png)
    assert set(seen) <= set(range(9)) and cl.scene_reading(scene) == {0: 0, 8: 1}
    captions = ["a 0 at the top left and a 1 at the bottom right", "a 4 at the top left and a 1 at the center",
                "I see a 0"]
    agree = cl.claim_agreement(captions, [cl.scene_reading(scene)] * 3, [cl.scene_reading(scene)] * 3)
    assert agree == {"claims": 5, "claim_agreement": 1.0, "false_claim_precision": 1.0, "false_claim_recall": 1.0}
    wrong = cl.claim_agreement(captions[:2], [{0: 0, 8: 7}] * 2, [cl.scene_reading(scene)] * 2)
    # the labeler misreads the 1: one true claim called false, the two false claims still caught
    assert wrong["claim_agreement"] == 0.75 and wrong["false_claim_recall"] == 1.0
    assert wrong["false_claim_precision"] == pytest.approx(2 / 3)
