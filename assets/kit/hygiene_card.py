"""What each hygiene rule removed, as a release's card states it: every rule named, zeros included,
so a reader sees that a rule ran and found nothing rather than wonder whether it ran."""

from collections.abc import Mapping, Sequence

import polars as pl

from assets.kit.markdown import markdown_table


def hygiene_rows(stages: Mapping[str, tuple[pl.DataFrame, Sequence[str]]]) -> list[dict]:
    """(stage, rule, inputs, removed) for every rule of every hygiene stage: `stages` maps a stage to
    its frame (every input row with `kept`, `reason`) and its rules' reasons."""
    rows = []
    for stage, (df, reasons) in stages.items():
        counts = ({str(r): int(n) for r, n in df.filter(~pl.col("kept")).group_by("reason").len().iter_rows()}
                  if df.height and "kept" in df.columns else {})
        rows += [{"stage": stage, "rule": r, "inputs": df.height, "removed": counts.pop(r, 0)} for r in reasons]
        rows += [{"stage": stage, "rule": r, "inputs": df.height, "removed": n} for r, n in sorted(counts.items())]
    return rows


def hygiene_markdown(rows: list[dict]) -> str:
    table = markdown_table(pl.DataFrame(rows), max_rows=len(rows)) if rows else "(no hygiene stage ran)"
    return f"\n\n## Hygiene\n\nRecords each hygiene rule removed before release:\n\n{table}\n"
