import io

import numpy as np
import polars as pl
import pytest
from PIL import Image

from assets.training.scm.data import DataSourceError, load_images, split_names


def test_digits_are_split_stratified_and_normalised_to_sigma_d():
    data = load_images("digits", seed=0)
    assert data.images.shape == (1797, 1, 8, 8) and data.n_classes == 10 and data.labelled
    counts = {s: int((data.split == s).sum()) for s in ("train", "val", "test")}
    assert sum(counts.values()) == 1797 and 250 < counts["val"] < 290 and 250 < counts["test"] < 290
    x_tr, y_tr = data.part("train")
    assert abs(x_tr.std() - 0.5) < 1e-4 and abs(x_tr.mean()) < 1e-4
    assert set(np.unique(y_tr)) == set(range(10))
    # decode(clip(x)) is the pixel value in [0, 1]; the clip range is the encoded [0, 1]
    assert np.allclose(data.decode(data.images[:5]), load_images("digits").decode(data.images[:5]))
    assert data.decode(np.array([data.encode_value(0.25)]))[0] == pytest.approx(0.25, abs=1e-6)


def test_split_is_seeded():
    labels = np.repeat(np.arange(3), 20)
    assert (split_names(labels, 1) == split_names(labels, 1)).all()
    assert (split_names(labels, 1) != split_names(labels, 2)).any()


def _png(value: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((16, 16), value, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_folder_and_parquet_sources(tmp_path):
    for label, value in (("a", 0), ("b", 255)):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(10):
            (tmp_path / "imgs" / label / f"{i}.png").write_bytes(_png(value))
    data = load_images(str(tmp_path / "imgs"), image_size=8)
    assert data.images.shape == (20, 1, 8, 8) and data.n_classes == 2
    assert data.decode(data.images[data.labels == 1]).min() > 0.99
    pq = tmp_path / "imgs.parquet"
    pl.DataFrame({"image": [_png(0), _png(255)] * 10, "label": ["x", "y"] * 10}).write_parquet(pq)
    assert load_images(str(pq)).n_classes == 2
    with pytest.raises(DataSourceError, match="neither 'digits'"):
        load_images(str(tmp_path / "missing"))
