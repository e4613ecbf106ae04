"""Content selection: FineVideo's oracle, seeded, budget-safe, and honest about its final pass.

The algorithm (RECIPES section 1, `oracle.py`): engagement = 0.2 comments + 0.5 views + 0.3 likes,
each min-max scaled with missing values as 0; shuffle; give every category an equal share of the
hour budget; within a category take videos by engagement (then fewer followers first), accepting
each with probability max(1 - 0.1 * videos already taken from its channel, 0); a category that
cannot fill its share passes the rest on to the categories still to come; a final pass fits the
picks to the budget and adds more by ascending duration while under it.

Defects of the script fixed here: the acceptance draws were unseeded (`np.random.rand`), so two runs
picked different videos; it saved the function object instead of the selection; and its final pass
re-added picks in ascending duration, which keeps short videos and drops long ones. Here every draw
comes from one seeded generator; categories are visited from the smallest supply up, so a share a
category cannot use really does reach the others; the channel count is global (a channel cannot
dodge the penalty by spanning categories); and the final pass has two rules: `shortest_first`
(FineVideo's, kept for comparison) and `ranked`, which fits the picks and then tops up from the
videos the quotas passed over in the order they were earned (round-robin over categories by rank).
Neither ever exceeds the budget.

A candidate is a landed record (`record_id`, unique per shard and row); the same video landed in two
shards is two candidates with one `source_key`. Before selection, the first landing of each source
(by landing order, then shard name) goes on and the others are rejected as `duplicate_source`, naming
the record kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.kit.provenance import MODELS
from assets.kit.screening import kept

# what a candidate carries from each stage, for selection, annotation and release
RAW_COLUMNS = ["source_key", "title", "channel", "channel_id", "license", "date", "view_count", "like_count",
               "comment_count", "channel_follower_count", "text", "source_file", "source_row"]
FILE_COLUMNS = ["sha256", "size_bytes", "subtitle_uri", "width", "height", "rotation_deg", "avg_fps", "vfr", "container",
                "vcodec"]
DYNAMISM_COLUMNS = ["media_uri", "duration_s", "fps", "scene_cuts_s", "motion_per_second", "freeze_intervals",
                    "decode_mode", "frames"]
LABEL_COLUMNS = ["category_path", "content_parent_category", "content_fine_category", "confidence", "margin",
                 "taxonomy_version", "models"]

WEIGHTS = {"comment_count": 0.2, "view_count": 0.5, "like_count": 0.3}
# what the oracle ranks, draws and dedups on, read for every candidate; the rest of each stage's
# columns is read for the selected videos only (at 1M candidates that is most of the memory)
RANKING_COLUMNS = {"raw_video_metadata": ["source_key", "channel", "license", "channel_follower_count", *WEIGHTS],
                   "video_files": [], "dynamism_screen": ["duration_s"]}
CHANNEL_PENALTY = 0.1
FINAL_FILLS = ("ranked", "shortest_first")

# reasons a candidate is not selected
LOST_DRAW = "channel_penalty"
NO_BUDGET = "over_budget"
DUPLICATE = "duplicate_source"
NO_DURATION = "no_duration"


@dataclass(frozen=True)
class SelectionConfig:
    budget_s: float
    seed: int = 42
    final_fill: str = "ranked"
    channel_penalty: float = CHANNEL_PENALTY

    def __post_init__(self):
        if self.final_fill not in FINAL_FILLS:
            raise ValueError(f"final_fill must be one of {FINAL_FILLS}, not {self.final_fill!r}")
        if self.budget_s < 0:
            raise ValueError("budget must not be negative")


def engagement(df: pl.DataFrame) -> pl.Series:
    """0.2 comments + 0.5 views + 0.3 likes after min-max scaling (missing counts are 0)."""
    total = pl.lit(0.0)
    for col, w in WEIGHTS.items():
        x = pl.col(col).cast(pl.Float64).fill_null(0.0).fill_nan(0.0)
        span = x.max() - x.min()
        scaled = pl.when(span > 0).then((x - x.min()) / span).otherwise(0.0)
        total = total + w * scaled
    return df.select(total.alias("engagement")).to_series()


def select(candidates: pl.DataFrame, cfg: SelectionConfig) -> pl.DataFrame:
    """Every candidate with `engagement`, `category_rank`, `selected`, `reason`, `detail`, `pick_order`.

    `candidates` needs record_id, channel, category_path, duration_s, view_count, like_count,
    comment_count and channel_follower_count (counts may be null)."""
    rng = np.random.default_rng(cfg.seed)
    df = candidates.with_columns(
        engagement(candidates),
        pl.col("channel_follower_count").cast(pl.Float64).fill_null(0.0).alias("_followers"),
        pl.Series("_shuffle", rng.permutation(candidates.height)),
    )
    # rank inside the category: engagement desc, then followers asc, ties by the seeded shuffle
    df = df.sort(["category_path", "engagement", "_followers", "_shuffle"],
                 descending=[False, True, False, False])
    df = df.with_columns(pl.int_range(1, pl.len() + 1).over("category_path").alias("category_rank"))
    rows = [
        _Row(i, ch, cat, float(d or 0.0), rank, eng)
        for i, (ch, cat, d, rank, eng) in enumerate(
            df.select("channel", "category_path", "duration_s", "category_rank", "engagement").rows())
    ]
    state = _Selection(rows, cfg, rng)
    state.fill_quotas()
    state.final_pass()
    n = len(rows)
    return df.with_columns(
        pl.Series("selected", [i in state.chosen for i in range(n)], dtype=pl.Boolean),
        pl.Series("reason", [None if i in state.chosen else state.why[i][0] for i in range(n)], dtype=pl.String),
        pl.Series("detail", [None if i in state.chosen else state.why[i][1] for i in range(n)], dtype=pl.String),
        pl.Series("pick_order", [state.chosen.get(i) for i in range(n)], dtype=pl.Int32),
    ).drop("_followers", "_shuffle").sort("record_id")


@dataclass(frozen=True)
class _Row:
    i: int
    channel: str
    category: str
    duration_s: float
    rank: int
    engagement: float


class _Selection:
    def __init__(self, rows: list[_Row], cfg: SelectionConfig, rng: np.random.Generator):
        self.rows, self.cfg, self.rng = rows, cfg, rng
        self.picked: list[int] = []
        self.chosen: dict[int, int] = {}  # row -> pick order in the final selection
        self.why: dict[int, tuple[str, str]] = {}

    def _draw(self, row: _Row, taken: Counter) -> bool:
        p = max(1.0 - self.cfg.channel_penalty * taken[row.channel], 0.0)
        if self.rng.random() < p:
            return True
        self.why[row.i] = (LOST_DRAW, f"acceptance draw lost (p={p:.1f}: {taken[row.channel]} already "
                                      f"taken from {row.channel})")
        return False

    def fill_quotas(self) -> None:
        by_cat: dict[str, list[_Row]] = {}
        for r in self.rows:
            by_cat.setdefault(r.category, []).append(r)
        supply = {c: sum(r.duration_s for r in rs) for c, rs in by_cat.items()}
        order = sorted(by_cat, key=lambda c: (supply[c], c))
        taken: Counter[str] = Counter()
        remaining = self.cfg.budget_s
        for n_left, cat in zip(range(len(order), 0, -1), order, strict=True):
            share, used = remaining / n_left, 0.0
            for r in by_cat[cat]:
                if used >= share:
                    self.why[r.i] = (NO_BUDGET, f"its category had filled its share of {share:.0f} s" if share > 0
                                     else "no budget was left for its category")
                elif self._draw(r, taken):
                    self.picked.append(r.i)
                    used += r.duration_s
                    taken[r.channel] += 1
            remaining = max(0.0, remaining - used)

    def final_pass(self) -> None:
        """Fit the picks to the budget, then top up from what the quotas passed over (the channel
        penalty still applies), both in the order of the configured rule."""
        order = self._by_duration if self.cfg.final_fill == "shortest_first" else self._by_rank
        picked = set(self.picked)
        spare = [i for i in range(len(self.rows)) if i not in picked and self.why[i][0] == NO_BUDGET]
        self._fit(order(self.picked))
        self._fit(order(spare), draw=True)
        for i in self.picked:
            if i not in self.chosen:
                self.why[i] = (NO_BUDGET, "picked, then did not fit the budget in the final pass")

    def _by_duration(self, idx: list[int]) -> list[int]:
        return sorted(idx, key=lambda i: (self.rows[i].duration_s, i))

    def _by_rank(self, idx: list[int]) -> list[int]:
        """Best of every category first (the more engaging first), then every second best, ..."""
        return sorted(idx, key=lambda i: (self.rows[i].rank, -self.rows[i].engagement, self.rows[i].category))

    def _fit(self, order: list[int], draw: bool = False) -> None:
        total = sum(self.rows[i].duration_s for i in self.chosen)
        taken = Counter(self.rows[i].channel for i in self.chosen)
        for i in order:
            r = self.rows[i]
            if total + r.duration_s <= self.cfg.budget_s and (not draw or self._draw(r, taken)):
                self.chosen[i] = len(self.chosen) + 1
                total += r.duration_s
                taken[r.channel] += 1


def balance(selected: pl.DataFrame) -> dict[str, float]:
    """Hours, spread over categories and channels, and mean engagement of a set of videos."""
    hours = float(selected["duration_s"].sum() or 0.0) / 3600 if selected.height else 0.0
    shares = (
        selected.group_by("channel").agg(pl.col("duration_s").sum()).get_column("duration_s") / (hours * 3600)
        if hours > 0 else pl.Series([], dtype=pl.Float64)
    )
    return {
        "videos": selected.height,
        "hours": round(hours, 4),
        "categories": selected["category_path"].n_unique() if selected.height else 0,
        "mean_duration_s": round(float(selected["duration_s"].mean() or 0.0), 1) if selected.height else 0.0,
        "median_duration_s": round(float(selected["duration_s"].median() or 0.0), 1) if selected.height else 0.0,
        "max_channel_share": round(float(shares.max() or 0.0), 4) if shares.len() else 0.0,
        "channel_hhi": round(float((shares**2).sum()), 4) if shares.len() else 0.0,
        "mean_engagement": round(float(selected["engagement"].mean() or 0.0), 4) if selected.height else 0.0,
    }


def hours_per_category(selected: pl.DataFrame) -> dict[str, float]:
    if not selected.height:
        return {}
    per = selected.group_by("category_path").agg((pl.col("duration_s").sum() / 3600).alias("h"))
    return {c: round(h, 4) for c, h in per.sort("category_path").iter_rows()}


def unique_copies(labels: pl.DataFrame, duplicates: pl.DataFrame) -> pl.DataFrame:
    """The labels of the videos `video_duplicates` kept (near-duplicate copies were rejected there,
    naming the copy that goes on); a label it has not screened is not a candidate yet."""
    if "kept" not in labels.columns or not duplicates.height:
        return labels.clear()
    return labels.join(kept(duplicates).select("record_id"), on="record_id", how="semi")


def candidate_frame(labels: pl.DataFrame, raw: pl.DataFrame, files: pl.DataFrame, dyn: pl.DataFrame
                    ) -> pl.DataFrame:
    """Kept labels (with their `models`) and what selection, annotation and release need from the
    earlier stages, joined on `record_id` (unique across shards: it names the shard)."""
    if "kept" not in labels.columns:  # no shard has been labelled yet
        labels = pl.DataFrame(schema={"record_id": pl.String, "shard": pl.String, "video_id": pl.String,
                                      "kept": pl.Boolean, "category_path": pl.String, "models": MODELS})
    label_cols = [c for c in LABEL_COLUMNS if c in labels.columns]
    out = labels.filter(pl.col("kept")).select("record_id", "shard", "video_id", *label_cols)
    for frame, cols in ((raw, RAW_COLUMNS), (files, FILE_COLUMNS), (dyn, DYNAMISM_COLUMNS)):
        present = [c for c in cols if c in frame.columns and c not in out.columns]
        if "record_id" in frame.columns:  # a frame read down to the candidates may have no rows
            out = out.join(frame.select("record_id", *present), on="record_id", how="left")
    if "source_key" not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias("source_key"))
    return out


def first_landings(candidates: pl.DataFrame, landed: Mapping[str, int] | None = None) -> pl.DataFrame:
    """`candidates` with `duplicate_of`: null for the first landing of a source, else the record id
    of that first landing. First is by landing order (`landed`: shard -> position, as the landing
    sensor registered the shards; a shard it has not seen goes last), then by shard name and record
    id, so a shard landed later never displaces a record already released, whatever its name. A
    record without a source key is its own source."""
    landed = landed or {}
    rank = pl.col("shard").replace_strict(dict(landed), default=len(landed), return_dtype=pl.Int64)
    source = pl.coalesce(pl.col("source_key"), pl.col("record_id"))
    first = pl.col("record_id").sort_by(rank, "shard", "record_id").first().over(source)
    return candidates.with_columns(pl.when(pl.col("record_id") != first).then(first).alias("duplicate_of"))


def curate(candidates: pl.DataFrame, budget_s: float, seed: int, landed: Mapping[str, int] | None = None
           ) -> dict[str, pl.DataFrame]:
    """Per final-fill rule, every candidate with kept (= selected), reason, reasons and detail.
    Cross-shard duplicates of a source (its first landing, by `landed` order, goes on) and rows without a duration are
    rejected first."""
    pre = first_landings(candidates, landed).sort("record_id").with_columns(
        pl.when(pl.col("duplicate_of").is_not_null()).then(pl.lit(DUPLICATE))
        .when(pl.col("duration_s").is_null()).then(pl.lit(NO_DURATION)).alias("reason"),
    )
    eligible = pre.filter(pl.col("reason").is_null()).drop("reason")
    rejected = pre.filter(pl.col("reason").is_not_null()).with_columns(
        pl.when(pl.col("reason") == DUPLICATE)
        .then(pl.format("same source ({}) as {}", pl.col("source_key"), pl.col("duplicate_of")))
        .otherwise(pl.lit("no duration measured")).alias("detail"),
        pl.lit(False).alias("selected"),
    )
    out = {}
    for rule in FINAL_FILLS:
        picked = select(eligible, SelectionConfig(budget_s=budget_s, seed=seed, final_fill=rule))
        df = pl.concat([picked, rejected], how="diagonal_relaxed").sort("record_id")
        out[rule] = df.rename({"selected": "kept"}).with_columns(
            pl.when(pl.col("reason").is_null()).then(pl.lit([], dtype=pl.List(pl.String)))
            .otherwise(pl.concat_list(pl.col("reason"))).alias("reasons"))
    return out
