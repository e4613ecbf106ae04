"""Image sources for sCM: scikit-learn's 8x8 digits (ships with the package, the default), a folder
of images, or a Parquet file of encoded images.

- `digits`: 1,797 labelled 8x8 greyscale digits (values 0..16).
- a folder: `<folder>/<label>/<name>.png|jpg|...` (one subfolder per class) or a flat folder of
  images (no labels: the report then has no class coverage and cannot train its feature
  classifier, and says so).
- a `.parquet` file: an `image` column of encoded bytes (PNG, JPEG) and an optional `label` column.

Images become greyscale `image_size` x `image_size` arrays in [0, 1], split train / val / test
(stratified by label, seeded), then normalised with the training split's pixel mean and std so
the data's standard deviation is sigma_d, TrigFlow's assumption.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
SPLITS = ("train", "val", "test")


class DataSourceError(ValueError):
    """The data source cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class ImageData:
    """Normalised images [N, 1, H, W] (float32), integer labels (-1: unknown), split names."""

    images: np.ndarray
    labels: np.ndarray
    split: np.ndarray
    mean: float
    std: float
    sigma_d: float
    source: str

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        m = self.split == name
        return self.images[m], self.labels[m]

    @property
    def labelled(self) -> bool:
        return bool((self.labels >= 0).all())

    @property
    def n_classes(self) -> int:
        return int(self.labels.max()) + 1 if self.labelled else 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def decode(self, x: np.ndarray) -> np.ndarray:
        """Back to [0, 1] pixel values (clipped)."""
        return np.clip(((np.asarray(x) / self.sigma_d) * self.std + self.mean + 1.0) / 2.0, 0.0, 1.0)

    def clip(self, x: np.ndarray) -> np.ndarray:
        """Generated samples clipped to the valid pixel range, in normalised units."""
        lo, hi = self.encode_value(0.0), self.encode_value(1.0)
        return np.clip(np.asarray(x), lo, hi)

    def encode_value(self, v01: float) -> float:
        return float(((2.0 * v01 - 1.0) - self.mean) / self.std * self.sigma_d)


def _resize(img, size: int) -> np.ndarray:
    from PIL import Image

    g = img.convert("L")
    if g.size != (size, size):
        g = g.resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(g, dtype=np.float32) / 255.0


def read_source(source: str, image_size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Raw images in [0, 1] as [N, H, W] and labels (-1 when unlabelled)."""
    if source == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        imgs = d.images.astype(np.float32) / 16.0
        if image_size != 8:
            from PIL import Image

            imgs = np.stack([_resize(Image.fromarray((im * 255).astype(np.uint8)), image_size) for im in imgs])
        return imgs, d.target.astype(np.int64)
    path = Path(source)
    if path.suffix == ".parquet" and path.is_file():
        return _read_parquet(path, image_size)
    if path.is_dir():
        return _read_folder(path, image_size)
    raise DataSourceError(f"data source {source!r} is neither 'digits', a folder of images nor a .parquet file")


def _read_parquet(path: Path, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    import polars as pl
    from PIL import Image

    df = pl.read_parquet(path)
    if "image" not in df.columns:
        raise DataSourceError(f"{path.name}: expected an 'image' column of encoded bytes; has {df.columns}")
    imgs = np.stack([_resize(Image.open(io.BytesIO(b)), image_size) for b in df["image"].to_list()])
    labels = _label_ids(df["label"].to_list()) if "label" in df.columns else np.full(len(imgs), -1)
    return imgs, labels


def _read_folder(path: Path, image_size: int) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataSourceError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) under {path}")
    nested = all(p.parent != path for p in files)
    imgs = np.stack([_resize(Image.open(p), image_size) for p in files])
    labels = _label_ids([p.parent.name for p in files]) if nested else np.full(len(files), -1)
    return imgs, labels


def _label_ids(values: list) -> np.ndarray:
    names = sorted({str(v) for v in values})
    index = {n: i for i, n in enumerate(names)}
    return np.array([index[str(v)] for v in values], dtype=np.int64)


def split_names(labels: np.ndarray, seed: int, fractions: tuple[float, float] = (0.15, 0.15)) -> np.ndarray:
    """Stratified train / val / test assignment (val and test fractions given), seeded."""
    rng = np.random.default_rng(seed)
    out = np.empty(len(labels), dtype=object)
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val, n_test = (round(len(idx) * f) for f in fractions)
        out[idx[:n_val]] = "val"
        out[idx[n_val:n_val + n_test]] = "test"
        out[idx[n_val + n_test:]] = "train"
    return out.astype(str)


def load_images(source: str = "digits", image_size: int = 8, seed: int = 0, sigma_d: float = 0.5) -> ImageData:
    raw, labels = read_source(source, image_size)
    split = split_names(labels, seed)
    x = raw * 2.0 - 1.0
    train = x[split == "train"]
    mean, std = float(train.mean()), float(train.std())
    images = ((x - mean) / std * sigma_d).astype(np.float32)[:, None]
    return ImageData(images, labels, split, mean, std, sigma_d, source)
