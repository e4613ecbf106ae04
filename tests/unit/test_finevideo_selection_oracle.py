"""The vectorised oracle against the oracle written one row at a time (issue 22).

`select` decides a candidate's draw, quota and final pass with array operations over whole
categories; the reference below is the row-at-a-time loop it replaced (FineVideo's `oracle.py`
with this project's fixes). Same seed, same candidates: the same picks, pick order, reasons and
details, on inputs that exercise every branch (channels past the penalty's floor, categories that
cannot fill their share, ties in duration, a budget that binds and one that does not).
"""

from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl
import pytest

from assets.finevideo.content_selection import LOST_DRAW, NO_BUDGET, SelectionConfig, ranked, select


def reference_select(candidates: pl.DataFrame, cfg: SelectionConfig) -> pl.DataFrame:
    """The oracle as FineVideo's script writes it (one row at a time), with this project's fixes."""
    rng = np.random.default_rng(cfg.seed)
    df = ranked(candidates, rng)
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




def candidates(n: int, channels: int, categories: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame({
        "record_id": [f"yt:s1:v{i:06d}:{i}" for i in range(n)],
        "channel": [None if c == 0 else f"ch{c}" for c in rng.integers(0, channels, n)],
        "category_path": [f"Top > Leaf{c}" for c in rng.integers(0, categories, n)],
        "duration_s": rng.choice([30.0, 60.0, 61.5, 300.0, 1200.0, 0.1 * 3], n),
        "view_count": rng.integers(0, 1000, n), "like_count": [None if i % 7 == 0 else int(i % 50) for i in range(n)],
        "comment_count": rng.integers(0, 20, n), "channel_follower_count": rng.integers(0, 10**6, n),
    })


@pytest.mark.parametrize("rule", ["ranked", "shortest_first"])
@pytest.mark.parametrize(("n", "channels", "categories", "share", "penalty"), [
    (3000, 8, 5, 0.6, 0.1),     # few channels: most pass the penalty's floor (p = 0 after 10 picks)
    (3000, 400, 40, 0.3, 0.1),  # many channels, small categories that cannot fill their share
    (2000, 50, 12, 1.5, 0.1),   # a budget that does not bind
    (1500, 30, 6, 0.5, 0.0),    # no penalty
    (1500, 30, 6, 0.5, 0.35),   # a steep penalty
    (200, 3, 2, 0.0, 0.1),      # no budget at all
])
def test_the_vectorised_oracle_decides_exactly_as_the_loop(rule, n, channels, categories, share, penalty):
    for seed in (1, 42):
        df = candidates(n, channels, categories, seed)
        budget = float(df["duration_s"].sum()) * share
        cfg = SelectionConfig(budget_s=budget, seed=seed, final_fill=rule, channel_penalty=penalty)
        got, want = select(df, cfg), reference_select(df, cfg)
        assert got.columns == want.columns
        assert got.to_dicts() == want.to_dicts()
        assert got["selected"].sum() > 0 or share == 0.0


def test_both_final_fills_from_one_quota_pass_decide_as_two_runs_of_the_loop():
    """`curate` ranks and fills the quotas once and runs the final pass per rule."""
    from assets.finevideo.content_selection import FINAL_FILLS, select_rules

    df = candidates(4000, 120, 20, 7)
    cfg = SelectionConfig(budget_s=float(df["duration_s"].sum()) * 0.4, seed=7)
    both = select_rules(df, cfg, FINAL_FILLS)
    for rule in FINAL_FILLS:
        want = reference_select(df, SelectionConfig(budget_s=cfg.budget_s, seed=7, final_fill=rule))
        assert both[rule].to_dicts() == want.to_dicts()
    assert not both["ranked"]["selected"].equals(both["shortest_first"]["selected"])
