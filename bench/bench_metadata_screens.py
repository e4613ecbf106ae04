"""Metadata screens on a 1M-row YouTube-Commons-like shard: our polars rules against pandas.

The shard is generated (seeded): 11-character video ids with some duplicates and blanks, languages
mostly 'en' with others and stray case/whitespace, word counts with nulls, durations. Both sides
run the language screen (empty id, duplicate id, original and transcription language 'en',
word_count > 50) on every row and the word-density screen (words / duration > 0.5) on the rows the
language screen kept, producing kept, reason, every failed rule and a readable detail per row. The
pandas side is written the way pandas is usually written for this (vectorised masks, `np.select`
for the first failure, a comprehension for the per-row list of failures). Decisions (kept and
reason) must be identical; rows per second is best of three, wall clock and CPU, on this machine.
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

ROWS = 1_000_000
LANGUAGE_RULES = ("empty_video_id", "duplicate_video_id", "original_language", "transcription_language",
                  "word_count")


def shard(rows: int = ROWS, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"))
    ids = ["".join(x) for x in alphabet[rng.integers(0, len(alphabet), (rows, 11))]]
    for i in rng.choice(rows, rows // 100, replace=False):  # 1% re-listed videos
        ids[i] = ids[rng.integers(0, rows)]
    for i in rng.choice(rows, rows // 1000, replace=False):
        ids[i] = "" if i % 2 else None
    langs = np.array(["en", "en", "en", "en", "en", "en", "fr", "de", "es", "EN ", "pt"])
    words = rng.integers(0, 4000, rows).astype(float)
    words[rng.random(rows) < 0.01] = np.nan
    return pl.DataFrame({
        "record_id": [f"yt-row:bench:{i}" for i in range(rows)],
        "video_id": ids,
        "shard": "bench",
        "original_language": langs[rng.integers(0, len(langs), rows)],
        "transcription_language": langs[rng.integers(0, len(langs), rows)],
        "word_count": pl.Series(words, nan_to_null=True).cast(pl.Int64),
        "duration_s": rng.uniform(20, 1200, rows).round(2),
    })


def run_polars(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    from assets.finevideo.metadata_rules import language_screen, word_density_screen
    from assets.kit.screening import kept

    lang = language_screen(df)
    density = word_density_screen(kept(lang).join(df.select("record_id", "duration_s"), on="record_id"))
    return lang, density


def _screen(fails: list[np.ndarray], names: tuple[str, ...], details: list):
    import pandas as pd

    reason = np.select(fails, names, default=None)
    detail = np.select(fails, details, default=None)
    matrix = np.column_stack(fails)
    reasons = [[n for n, f in zip(names, row, strict=True) if f] for row in matrix]
    return pd.DataFrame({"kept": pd.isna(reason), "reason": reason, "reasons": reasons, "detail": detail})


def run_pandas(pdf):
    import pandas as pd

    vid = pdf["video_id"].str.strip()
    empty = (vid.isna() | (vid == "")).to_numpy()
    duplicate = (~empty & vid.duplicated(keep="first").to_numpy())
    orig = pdf["original_language"].str.strip().str.lower().ne("en").to_numpy()
    trans = pdf["transcription_language"].str.strip().str.lower().ne("en").to_numpy()
    words = ~(pdf["word_count"] > 50).fillna(False).to_numpy()
    shown = pdf["word_count"].astype("string").fillna("null")
    details = [
        (pdf["video_id"].fillna("null") + " (keep if a non-empty id)").to_numpy(),
        (pdf["video_id"].fillna("null") + " (keep if first row of its id in the shard)").to_numpy(),
        (pdf["original_language"].fillna("null") + " (keep if == 'en')").to_numpy(),
        (pdf["transcription_language"].fillna("null") + " (keep if == 'en')").to_numpy(),
        (shown + " (keep if > 50)").to_numpy(),
    ]
    lang = pd.concat([pdf[["record_id", "video_id", "shard", "original_language", "transcription_language",
                           "word_count"]].reset_index(drop=True),
                      _screen([empty, duplicate, orig, trans, words], LANGUAGE_RULES, details)], axis=1)
    todo = lang.loc[lang["kept"], ["record_id", "video_id", "shard", "word_count"]].merge(
        pdf[["record_id", "duration_s"]], on="record_id")
    wps = (todo["word_count"] / todo["duration_s"].where(todo["duration_s"] > 0)).astype("float64")
    fail = ~(wps > 0.5).fillna(False).to_numpy()
    density = pd.concat([todo.assign(words_per_second=wps).reset_index(drop=True),
                         _screen([fail], ("word_density",),
                                 [(wps.round(4).astype("string").fillna("null") + " (keep if > 0.5 words/s)").to_numpy()])],
                        axis=1)
    return lang, density


def _best(fn, arg) -> tuple[float, float, object]:
    wall, cpu, out = float("inf"), float("inf"), None
    for _ in range(3):
        w, c = time.perf_counter(), time.process_time()
        out = fn(arg)
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu, out


def main() -> None:
    df = shard()
    pdf = df.to_pandas(use_pyarrow_extension_array=False)
    pdf["word_count"] = pdf["word_count"].astype("Int64")
    pl_wall, pl_cpu, (pl_lang, pl_density) = _best(run_polars, df)
    pd_wall, pd_cpu, (pd_lang, pd_density) = _best(run_pandas, pdf)
    same_lang = pl_lang.select("kept", "reason").equals(pl.from_pandas(pd_lang[["kept", "reason"]]))
    same_density = (pl_density.sort("record_id").select("record_id", "kept", "reason")
                    .equals(pl.from_pandas(pd_density[["record_id", "kept", "reason"]]).sort("record_id")))
    rows = [
        ("polars", f"{ROWS / pl_wall:,.0f}", f"{ROWS / pl_cpu:,.0f}", f"{pl_wall:.2f}"),
        ("pandas", f"{ROWS / pd_wall:,.0f}", f"{ROWS / pd_cpu:,.0f}", f"{pd_wall:.2f}"),
    ]
    print(f"{ROWS:,} rows; language kept {int(pl_lang['kept'].sum()):,}, word density kept "
          f"{int(pl_density['kept'].sum()):,}")
    print(f"{'engine':8s}  {'rows/s (wall)':>14s}  {'rows/s (CPU)':>13s}  {'wall s':>7s}")
    for r in rows:
        print(f"{r[0]:8s}  {r[1]:>14s}  {r[2]:>13s}  {r[3]:>7s}")
    print(f"polars / pandas: {pd_wall / pl_wall:.1f}x wall, {pd_cpu / pl_cpu:.1f}x CPU; identical decisions: "
          f"language {same_lang}, word density {same_density}")


if __name__ == "__main__":
    main()
