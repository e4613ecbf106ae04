"""Balance reports and the balanced training mix of each release.

For each release, one row per released record with the groups it belongs to (FineVideo: top-level
category, channel, licence; Docmatix: language and the question forms of its pairs; CinePile:
question category and template kind), and the mix a trainer should draw: `cap` keeps the largest
selection in which no group exceeds its target share (the rest `over_represented`), `reweight` keeps
every row with a `sample_weight`. The release itself is not changed: a balanced mix is a choice made
per training run (config), the release is the data. The UI shows each dimension's distribution and
the balanced dimension before and after; the warehouse has the rows."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import dagster as dg
import polars as pl
from pydantic import Field

from assets.docmatix.question_forms import question_form
from assets.docmatix.release import document_language
from assets.hygiene.balance import BalanceRules, balance_change, before_after, distribution, rebalance
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.metadata import markdown_table, png_markdown, pyplot
from assets.kit.provenance import declare


class BalanceConfig(dg.Config):
    method: Literal["cap", "reweight"] = Field(default="cap", description="cap: reject the rows over a group's "
                                               "target; reweight: keep every row, weighted to the target")
    target: Literal["uniform", "proportional"] = Field(default="proportional", description="equal shares, or "
                                                       "the observed shares with `max_share` capping the largest")
    max_share: float = Field(default=0.35, gt=0, le=1, description="the largest share one group may have (raised "
                             "to 1/groups when there are fewer groups than that allows)")
    seed: int = 0


@dataclass(frozen=True)
class Mix:
    dataset: str
    group: str  # the dimension the mix balances
    dimensions: tuple[str, ...]  # every dimension reported
    rows: Callable[[pl.DataFrame], pl.DataFrame]  # release -> record_id + the dimensions


def _finevideo(release: pl.DataFrame) -> pl.DataFrame:
    return release.select("record_id", category="content_parent_category", channel="youtube_channel",
                          licence="license")


def _docmatix(release: pl.DataFrame) -> pl.DataFrame:
    return release.select(
        "record_id",
        pl.col("texts").map_elements(document_language, return_dtype=pl.String).alias("language"),
        pl.col("texts").map_elements(lambda ts: sorted({question_form(t["user"]) for t in ts}),
                                     return_dtype=pl.List(pl.String)).alias("question_forms"))


def _cinepile(release: pl.DataFrame) -> pl.DataFrame:
    return release.select("record_id", category="question_category", kind="kind")


MIXES = (Mix("finevideo_dataset", "category", ("category", "channel", "licence"), _finevideo),
         Mix("docmatix_dataset", "language", ("language", "question_forms"), _docmatix),
         Mix("cinepile_dataset", "category", ("category", "kind"), _cinepile))


def rules_for(config: BalanceConfig, groups: int) -> BalanceRules:
    share = max(config.max_share, 1 / groups) if groups else config.max_share
    return BalanceRules(target=config.target, max_share=None if config.target == "uniform" else share,
                        method=config.method, seed=config.seed)


def _chart(shares: pl.DataFrame, group: str, title: str) -> dg.MetadataValue:
    plt = pyplot()
    labels = [str(g) for g in shares[group].to_list()]
    fig, ax = plt.subplots(figsize=(7, max(1.8, 0.45 * len(labels) + 0.8)))
    y = range(len(labels))
    ax.barh([i + 0.2 for i in y], shares["before_share"].to_list(), height=0.4, label="release")
    ax.barh([i - 0.2 for i in y], shares["after_share"].to_list(), height=0.4, label="balanced mix")
    ax.set_yticks(list(y), labels)
    ax.set_xlabel("share")
    ax.set_title(title)
    ax.legend()
    return png_markdown(fig, title)


def _distribution(df: pl.DataFrame, dimension: str) -> pl.DataFrame:
    frame = df.explode(dimension) if df.schema[dimension] == pl.List(pl.String) else df
    return distribution(frame.with_columns(pl.col(dimension).fill_null("(unknown)")), dimension)


def balance_asset(mix: Mix) -> dg.AssetsDefinition:
    @kit_asset(
        name=f"{mix.dataset.removesuffix('_dataset')}_balance",
        group="quality",
        check_specs=(provenance_spec,),
        ins={"release": dg.AssetIn(mix.dataset)},
        description=(
            f"Balance of `{mix.dataset}`: every released record with its {', '.join(mix.dimensions)}, and the "
            f"balanced training mix over {mix.group} (config: cap to a target share, or reweight; "
            "`over_represented` rows are out of the mix, not out of the release). Shown: each dimension's "
            f"distribution and the {mix.group} shares before and after."
        ),
    )
    def _balance(context: dg.AssetExecutionContext, config: BalanceConfig, release: pl.DataFrame):
        rows = mix.rows(release).with_columns(pl.col(mix.group).fill_null("(unknown)"))
        groups = rows[mix.group].n_unique() if rows.height else 0
        rules = rules_for(config, groups)
        out = rebalance(rows, mix.group, rules) if rows.height else rows.with_columns(
            pl.lit(None, pl.Boolean).alias("kept"), pl.lit(None, pl.String).alias("reason"))
        if "sample_weight" not in out.columns:
            out = out.with_columns(pl.when(pl.col("kept")).then(1.0).otherwise(0.0).alias("sample_weight"))
        # the same release records, placed in a mix: no parents, no model
        out = declare(out)
        meta = {"dagster/row_count": out.height, "rule": rules.describe()}
        if out.height:
            shares = before_after(out, mix.group)
            meta |= {"in_mix": int(out["kept"].sum()), "over_represented": int((~out["kept"]).sum()),
                     **{k: round(v, 4) for k, v in balance_change(out, mix.group).items()},
                     "before_after": _chart(shares, mix.group, f"{mix.dataset}: {mix.group} shares"),
                     "shares": dg.MetadataValue.md(markdown_table(shares))}
            for dimension in mix.dimensions:
                meta[f"by_{dimension}"] = dg.MetadataValue.md(markdown_table(_distribution(out, dimension),
                                                                             max_rows=30))
        yield versioned(out, meta, rules=None)
        yield provenance_result(out)

    return _balance


BALANCE_ASSETS = [balance_asset(m) for m in MIXES]
