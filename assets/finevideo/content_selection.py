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

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from assets.kit.provenance import MODELS

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
                   "dynamism_screen": ["duration_s"]}
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


def ranked(candidates: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Candidates with `engagement` and `category_rank`, sorted by category and rank: engagement
    desc, then followers asc, ties by a shuffle drawn from `rng` (its first draws)."""
    df = candidates.with_columns(
        engagement(candidates),
        pl.col("channel_follower_count").cast(pl.Float64).fill_null(0.0).alias("_followers"),
        pl.Series("_shuffle", rng.permutation(candidates.height)),
        _dense_code("category_path").alias("_category"),
    )
    # on the category's number, not its name: a string sort of 1.9M rows took seconds
    df = df.sort(["_category", "engagement", "_followers", "_shuffle"], descending=[False, True, False, False])
    return df.with_columns(pl.int_range(1, pl.len() + 1).over("_category").alias("category_rank")).drop("_category")


def _dense_code(column: str) -> pl.Expr:
    """`column`'s dense rank (1 for the smallest value, 0 for null) without sorting every row: the
    distinct values are few next to the rows (categories, channels)."""
    values = pl.col(column).unique().drop_nulls().sort()
    return pl.col(column).replace_strict(values, pl.int_range(1, values.len() + 1),
                                         default=0, return_dtype=pl.Int64)


def select(candidates: pl.DataFrame, cfg: SelectionConfig) -> pl.DataFrame:
    """Every candidate with `engagement`, `category_rank`, `selected`, `reason`, `detail`, `pick_order`,
    in record-id order (ties in the ranking are broken by a shuffle drawn over the input's order).

    `candidates` needs record_id, channel, category_path, duration_s, view_count, like_count,
    comment_count and channel_follower_count (counts may be null)."""
    return select_rules(candidates, cfg, (cfg.final_fill,))[cfg.final_fill]


def select_rules(candidates: pl.DataFrame, cfg: SelectionConfig, rules: Sequence[str]) -> dict[str, pl.DataFrame]:
    """`select` under each final-fill rule in `rules`: the ranking and the quotas (the same draws
    under every rule) are computed once, the final pass once per rule."""
    rng = np.random.default_rng(cfg.seed)
    # the rows go back to the input's order by this number (re-sorting 1.9M ids took seconds)
    df = ranked(candidates.with_row_index(_ROW), rng)
    cols = df.select(
        _dense_code("channel").alias("code"),
        pl.col("duration_s").cast(pl.Float64).fill_null(0.0), "category_rank", "engagement")
    quotas = _Oracle(cols, df["category_path"].to_list(), cfg, rng)
    quotas.fill_quotas()
    out = {}
    for rule in rules:
        state = quotas.fork(replace(cfg, final_fill=rule))
        state.final_pass()
        out[rule] = _decided(df, state)
    return out


def _decided(df: pl.DataFrame, state: _Oracle) -> pl.DataFrame:
    chosen = state.pick_order > 0
    why = pl.Series("why", state.why).replace_strict({_NONE: None, _NO_BUDGET: NO_BUDGET, _LOST: LOST_DRAW},
                                                      return_dtype=pl.String)
    lost = pl.format("acceptance draw lost (p={}: {} already taken from {})",
                     pl.Series(state.lost_k).replace_strict(state.p_text, default="0.0", return_dtype=pl.String),
                     pl.Series(state.lost_k), df["channel"].fill_null("None"))
    out = df.with_columns(
        pl.Series("selected", chosen, dtype=pl.Boolean),
        pl.when(pl.Series(chosen)).then(None).otherwise(why).alias("reason"),
        pl.when(pl.Series(chosen)).then(None).when(why == LOST_DRAW).then(lost)
        .otherwise(pl.Series(state.detail, dtype=pl.String)).alias("detail"),
        pl.when(pl.Series(chosen)).then(pl.Series(state.pick_order)).cast(pl.Int32).alias("pick_order"),
    ).sort(_ROW).drop("_followers", "_shuffle", _ROW)
    # in record-id order: `curate` passes them so already, so the check is all it costs there
    return out if out["record_id"].is_sorted() else out.sort("record_id")


_NONE, _NO_BUDGET, _LOST = 0, 1, 2
_ROW, _PRE = "__selection_row", "__curate_row"  # working row numbers, named apart from any input column
_WINDOW = 4096  # rows a budget fit tests at once


class _Oracle:
    """The oracle's decisions as array operations, draw for draw the same as the row-at-a-time loop
    (tests/unit/test_finevideo_selection_oracle.py keeps that loop as the reference).

    Rows come sorted by category and rank. Within a category, every row is drawn until the
    category's share is used, so the draws form a prefix: acceptance is decided for the whole
    category at once (a channel's p falls with each of its picks, so at most 1/penalty rounds, each
    taking every channel's next acceptable row), the prefix is where the cumulative picked hours
    reach the share, and the generator is then moved on by exactly the prefix's draws. The final
    pass fits rows in order while they fit; past the first that does not, only rows that fit are
    visited (and drawn), found a window at a time, and the pass stops once none can."""

    def __init__(self, cols: pl.DataFrame, categories: list, cfg: SelectionConfig, rng: np.random.Generator):
        self.code = cols["code"].to_numpy()
        self.duration = cols["duration_s"].to_numpy()
        self.rank = cols["category_rank"].to_numpy()
        self.engagement = cols["engagement"].to_numpy()
        self.categories, self.cfg, self.rng = categories, cfg, rng
        n = len(categories)
        self.why = np.zeros(n, dtype=np.int8)
        self.detail: list[str | None] = [None] * n  # why a row was not chosen, but for a lost draw
        self.lost_k = np.full(n, -1, dtype=np.int64)  # a lost draw: its channel's picks at the time
        self.picked = np.zeros(n, dtype=bool)
        self.pick_order = np.zeros(n, dtype=np.int64)  # 0: not chosen
        self.chosen_count = 0
        self.taken = np.zeros(int(self.code.max()) + 1 if n else 1, dtype=np.int64)
        # rows come sorted by category: each category is one block, numbered in the categories' order
        self.starts = [0] + [i for i in range(1, n) if categories[i] != categories[i - 1]] if n else []
        self.block = np.cumsum(np.isin(np.arange(n), self.starts[1:])) if n else np.zeros(0, dtype=np.int64)
        # p for a channel with k picks, as the loop computes it; p is 0 from `levels` picks on
        levels = 0 if cfg.channel_penalty <= 0 else next(k for k in itertools.count() if self._p(k) == 0)
        self.p = [self._p(k) for k in range(levels + 1)]
        # picks from which a channel's draws are all lost (none without a penalty)
        self.hopeless = levels if cfg.channel_penalty > 0 else np.iinfo(np.int64).max
        self.p_text = {k: f"{p:.1f}" for k, p in enumerate(self.p)}

    def fork(self, cfg: SelectionConfig) -> _Oracle:
        """A copy to run the final pass under `cfg` from the same decisions and generator state."""
        other = object.__new__(_Oracle)
        other.__dict__.update(self.__dict__)
        other.cfg = cfg
        for name in ("why", "lost_k", "picked", "pick_order", "taken"):
            setattr(other, name, getattr(self, name).copy())
        other.detail = list(self.detail)
        other.rng = np.random.Generator(type(self.rng.bit_generator)())
        other.rng.bit_generator.state = self.rng.bit_generator.state
        return other

    def _p(self, k: int) -> float:
        return max(1.0 - self.cfg.channel_penalty * k, 0.0)

    def _lost(self, i: np.ndarray | int, k: np.ndarray | int) -> None:
        self.why[i] = _LOST
        self.lost_k[i] = k

    def _accepted(self, rows: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each row's draw `u` is accepted when every row is drawn in order, and the picks
        its channel had before it."""
        n = len(rows)
        if self.cfg.channel_penalty <= 0:  # p is 1: every draw (in [0, 1)) is accepted
            return np.ones(n, dtype=bool), np.zeros(n, dtype=np.int64) + self.taken[self.code[rows]]
        order = np.argsort(self.code[rows], kind="stable")
        ch = self.code[rows][order]
        su = u[order]
        starts = np.flatnonzero(np.r_[True, ch[1:] != ch[:-1]])
        ends = np.r_[starts[1:], n]
        big = np.iinfo(np.int64).max
        idx = np.arange(n)
        # next_ok[k][j]: the first position >= j whose draw beats p(k) (it may lie in a later channel)
        next_ok = np.stack([np.minimum.accumulate(np.where(su < p, idx, big)[::-1])[::-1] for p in self.p[:-1]])
        accepted = np.zeros(n, dtype=bool)
        k = self.taken[ch[starts]].copy()
        pos = starts.copy()
        levels = len(self.p) - 1
        active = (k < levels) & (pos < ends)
        while active.any():
            g = np.flatnonzero(active)
            j = next_ok[k[g], pos[g]]
            found = j < ends[g]
            accepted[j[found]] = True
            hit = g[found]
            pos[hit] = j[found] + 1
            k[hit] += 1
            active[:] = False
            active[hit] = (k[hit] < levels) & (pos[hit] < ends[hit])
        # picks before each row: its channel's picks so far, plus those earlier in this block
        group = np.repeat(np.arange(len(starts)), ends - starts)
        before = np.cumsum(accepted) - accepted
        before = before - (np.cumsum(accepted) - accepted)[starts][group] + self.taken[ch[starts]][group]
        out_acc, out_k = np.empty(n, dtype=bool), np.empty(n, dtype=np.int64)
        out_acc[order], out_k[order] = accepted, before
        return out_acc, out_k

    def fill_quotas(self) -> None:
        n = len(self.code)
        if n == 0:
            return
        cats = self.categories
        blocks = list(zip(self.starts, [*self.starts[1:], n], strict=True))
        supply = {cats[a]: float(sum(self.duration[a:b].tolist())) for a, b in blocks}
        order = sorted(blocks, key=lambda ab: (supply[cats[ab[0]]], cats[ab[0]] or ""))
        remaining = self.cfg.budget_s
        for n_left, (a, b) in zip(range(len(order), 0, -1), order, strict=True):
            share = remaining / n_left
            state = self.rng.bit_generator.state
            u = self.rng.random(b - a)
            rows = np.arange(a, b)
            accepted, k = self._accepted(rows, u)
            used = np.cumsum(np.where(accepted, self.duration[a:b], 0.0))
            used_before = np.r_[0.0, used[:-1]]
            drawn = int(np.argmax(used_before >= share)) if (used_before >= share).any() else b - a
            self.rng.bit_generator.state = state
            self.rng.random(drawn)  # the generator moves on by the draws the loop makes
            if drawn < b - a:
                self.why[a + drawn:b] = _NO_BUDGET
                text = f"its category had filled its share of {share:.0f} s" if share > 0 \
                    else "no budget was left for its category"
                self.detail[a + drawn:b] = [text] * (b - a - drawn)
            took = accepted[:drawn]
            self.picked[a:a + drawn] = took
            np.add.at(self.taken, self.code[a:a + drawn][took], 1)
            lost = np.flatnonzero(~took)
            self._lost(a + lost, k[lost])
            remaining = max(0.0, remaining - (float(used[drawn - 1]) if drawn else 0.0))

    def final_pass(self) -> None:
        """Fit the picks to the budget, then top up from what the quotas passed over (the channel
        penalty still applies), both in the order of the configured rule."""
        order = self._by_duration if self.cfg.final_fill == "shortest_first" else self._by_rank
        picked = np.flatnonzero(self.picked)
        spare = np.flatnonzero(~self.picked & (self.why == _NO_BUDGET))
        self._fit(order(picked))
        self._fit(order(spare), draw=True)
        dropped = picked[self.pick_order[picked] == 0]
        self.why[dropped] = _NO_BUDGET
        for i in dropped:
            self.detail[i] = "picked, then did not fit the budget in the final pass"

    def _by_duration(self, idx: np.ndarray) -> np.ndarray:
        return idx[np.lexsort((idx, self.duration[idx]))]

    def _by_rank(self, idx: np.ndarray) -> np.ndarray:
        """Best of every category first (the more engaging first), then every second best, ..."""
        return idx[np.lexsort((self.block[idx], -self.engagement[idx], self.rank[idx]))]

    def _choose(self, i: int) -> None:
        self.chosen_count += 1
        self.pick_order[i] = self.chosen_count

    def _skip_hopeless(self, rows: np.ndarray, taken: np.ndarray, fits: np.ndarray) -> np.ndarray:
        """Draw for the leading `rows` (those that fit, in order) whose channel's p is already 0:
        every such draw is lost and changes neither the total nor any channel's picks, so they are
        drawn as one batch (the generator moves on by as many draws as the loop makes). Returns
        the fits from the first row that still has a chance."""
        k = taken[self.code[rows]]
        alive = np.flatnonzero(k < self.hopeless)
        lost = alive[0] if alive.size else len(rows)
        if lost:
            self.rng.random(lost)
            self._lost(rows[:lost], k[:lost])
        return fits[lost:]

    def _fit(self, order: np.ndarray, draw: bool = False) -> None:
        chosen = np.flatnonzero(self.pick_order)
        chosen = chosen[np.argsort(self.pick_order[chosen])]
        total = sum(self.duration[chosen].tolist())  # summed in pick order, as the loop does
        taken = np.bincount(self.code[chosen], minlength=len(self.taken)) if draw else None
        d = self.duration[order]
        budget = self.cfg.budget_s
        start = 0
        if not draw:  # every row fits until the first that does not
            sums = np.cumsum(np.r_[float(total), d])[1:]
            over = np.flatnonzero(sums > budget)
            start = int(over[0]) if over.size else len(d)
            for i in order[:start]:
                self._choose(int(i))
            total = float(sums[start - 1]) if start else total
        least = np.minimum.accumulate(d[::-1])[::-1] if len(d) else d
        pos = start
        while pos < len(d) and total + least[pos] <= budget:
            window = d[pos:pos + _WINDOW]
            fits = np.flatnonzero(total + window <= budget)
            if not fits.size:
                pos += len(window)
                continue
            if draw:
                fits = self._skip_hopeless(order[pos + fits], taken, fits)
                if not fits.size:
                    pos += len(window)
                    continue
            pos += int(fits[0])
            i = int(order[pos])
            pos += 1
            if draw:
                k = int(taken[self.code[i]])
                if not self.rng.random() < self._p(k):
                    self._lost(i, k)
                    continue
                taken[self.code[i]] += 1
            self._choose(i)
            total += self.duration[i]


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


def candidate_frame(labels: pl.DataFrame, raw: pl.DataFrame, dyn: pl.DataFrame) -> pl.DataFrame:
    """Kept labels (with their `models`) and what selection, annotation and release need from the
    earlier stages, joined on `record_id` (unique across shards: it names the shard)."""
    if "kept" not in labels.columns:  # no shard has been labelled yet
        labels = pl.DataFrame(schema={"record_id": pl.String, "shard": pl.String, "video_id": pl.String,
                                      "kept": pl.Boolean, "category_path": pl.String, "models": MODELS})
    label_cols = [c for c in LABEL_COLUMNS if c in labels.columns]
    out = labels.filter(pl.col("kept")).select("record_id", "shard", "video_id", *label_cols)
    for frame, cols in ((raw, RAW_COLUMNS), (dyn, DYNAMISM_COLUMNS)):
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
    # the window runs over the sources landed more than once only: few, next to 1.9M candidates
    rows = candidates.drop("duplicate_of", strict=False).with_row_index(_ROW)
    copies = rows.filter(source.is_duplicated()).select(
        _ROW, pl.when(pl.col("record_id") != first).then(first).alias("duplicate_of"))
    return rows.join(copies, on=_ROW, how="left", maintain_order="left").drop(_ROW)


def curate(candidates: pl.DataFrame, budget_s: float, seed: int, landed: Mapping[str, int] | None = None
           ) -> dict[str, pl.DataFrame]:
    """Per final-fill rule, every candidate with kept (= selected), reason, reasons and detail.
    Cross-shard duplicates of a source (its first landing, by `landed` order, goes on) and rows without a duration are
    rejected first."""
    pre = first_landings(candidates, landed).sort("record_id").with_row_index(_PRE).with_columns(
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
    for rule, picked in select_rules(eligible, SelectionConfig(budget_s=budget_s, seed=seed), FINAL_FILLS).items():
        df = pl.concat([picked, rejected], how="diagonal_relaxed").sort(_PRE).drop(_PRE)
        out[rule] = df.rename({"selected": "kept"}).with_columns(
            pl.when(pl.col("reason").is_null()).then(pl.lit([], dtype=pl.List(pl.String)))
            .otherwise(pl.concat_list(pl.col("reason"))).alias("reasons"))
    return out
