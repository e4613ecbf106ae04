"""Answer priors across a question set: is a text the key more often than it is shown?

A question set leaks its answers without any single question doing so when one text is the key of
most questions of its kind ("speech throughout" for every speech question): a model that learns the
set answers without watching. The fair rate is chance: a text shown as one of five options should be
the key one time in five, i.e. it is as frequent among keys as among distractors. `ratio` is its key
rate when shown over that fair rate (5 x keys / shown); reports judge texts shown at least
`min_shown` times (below that a ratio is noise: a line shown once as the key has ratio 5). The
balancing allows every text `max_key_ratio` x its fair share of keys, rounded down, and at least one
key, whatever its showings: a prior cannot hide below the reporting threshold.

Two remedies, both per question kind:
- `rematch`: distractors are drawn from each question's own same-type pool so that every text is
  shown about five times per time it is a key (texts short of their showings first, then the closest
  lengths), before the questions are tested;
- `balance`: the questions whose key text still holds more than `max_ratio` times its fair share are
  dropped, the most over-represented text first, one question at a time (a drop also lowers the
  showings of its distractors, so ratios are recounted after each).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from assets.cinepile.mcq import N_CHOICES, norm


class PriorParams(BaseModel):
    """When a key text counts as a prior of the set. Run config where it is applied."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    max_key_ratio: float = Field(default=1.5, ge=1.0,
                                 description="Highest allowed key rate of a text when shown, over chance (1/5).")
    min_shown: int = Field(default=10, ge=1, description="Showings (as key or distractor) before a text's ratio is "
                                                          "reported.")


DEFAULTS = PriorParams()


@dataclass(frozen=True)
class Item:
    """One question as the prior sees it: its id, kind, options and key slot."""

    id: str
    kind: str
    choices: tuple[str, ...]
    key: int

    @property
    def key_text(self) -> str:
        return norm(self.choices[self.key])


def counts(items: Sequence[Item]) -> tuple[Counter, Counter]:
    """(key counts, showings) per (kind, normalised text)."""
    keys, shown = Counter(), Counter()
    for it in items:
        keys[(it.kind, it.key_text)] += 1
        for c in it.choices:
            shown[(it.kind, norm(c))] += 1
    return keys, shown


def ratios(items: Sequence[Item], params: PriorParams = DEFAULTS) -> dict[tuple[str, str], float]:
    """Key rate over chance per judged (kind, text)."""
    keys, shown = counts(items)
    return {t: N_CHOICES * keys[t] / n for t, n in shown.items() if n >= params.min_shown}


def worst(items: Sequence[Item], params: PriorParams = DEFAULTS) -> tuple[tuple[str, str] | None, float]:
    r = ratios(items, params)
    if not r:
        return None, 0.0
    t = max(r, key=lambda t: (r[t], t))
    return t, r[t]


def allowed_keys(shown: int, params: PriorParams = DEFAULTS) -> int:
    """Keys a text shown `shown` times may hold: its fair share times `max_key_ratio`, at least one."""
    return max(1, int(params.max_key_ratio * shown / N_CHOICES + 1e-9))


def balance(items: Sequence[Item], params: PriorParams = DEFAULTS) -> dict[str, str]:
    """Question id -> reason detail for the questions dropped so no text holds more keys than
    `allowed_keys`. The most over-represented text first; among its questions the last by id
    (stable on rerun)."""
    keys, shown = counts(items)
    alive = {it.id: it for it in items}
    by_key: dict[tuple[str, str], list[str]] = defaultdict(list)
    for it in sorted(items, key=lambda it: it.id):
        by_key[(it.kind, it.key_text)].append(it.id)
    dropped: dict[str, str] = {}
    while True:
        over = {t: N_CHOICES * keys[t] / n for t, n in shown.items() if keys[t] > allowed_keys(n, params)}
        if not over:
            return dropped
        t = max(over, key=lambda t: (over[t], t))
        qid = by_key[t].pop()
        it = alive.pop(qid)
        dropped[qid] = (f"{t[0]} key {it.choices[it.key]!r} is the key {keys[t]} times in {shown[t]} showings "
                        f"({over[t]:.2f}x chance; at most {params.max_key_ratio}x: "
                        f"{allowed_keys(shown[t], params)} keys)")
        keys[t] -= 1
        for c in it.choices:
            shown[(it.kind, norm(c))] -= 1


def rematch(items: Sequence[Item], pools: dict[str, Sequence[str]]) -> dict[str, list[str]]:
    """New distractors per question id (4, from `pools[id]`, never the key), chosen in id order so
    that each text is shown about five times per time it is a key: texts still short of that first,
    then the least shown, then the closest in length to the key. Questions without a pool of four
    keep theirs (absent from the result)."""
    keys, _ = counts(items)
    distractor_shows: Counter = Counter()
    out: dict[str, list[str]] = {}
    for it in sorted(items, key=lambda it: it.id):
        key = it.choices[it.key]
        pool = list({norm(c): c for c in pools.get(it.id, ()) if norm(c) != norm(key) and str(c).strip()}.values())
        if len(pool) < N_CHOICES - 1:
            for c in it.choices:
                if norm(c) != norm(key):
                    distractor_shows[(it.kind, norm(c))] += 1
            continue

        def order(c: str, kind: str = it.kind, key: str = key) -> tuple:
            t = (kind, norm(c))
            deficit = (N_CHOICES - 1) * keys[t] - distractor_shows[t]
            return (deficit <= 0, distractor_shows[t] if deficit <= 0 else -deficit,
                    abs(len(c) - len(key)) / max(len(key), 1), c)

        chosen = sorted(pool, key=order)[: N_CHOICES - 1]
        for c in chosen:
            distractor_shows[(it.kind, norm(c))] += 1
        out[it.id] = chosen
    return out
