"""The question bank (CinePile step 1, its input)."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.cinepile.bank import DEFAULT_BANK, BankRules, read_bank, screen_bank
from assets.kit.asset_kit import kit_asset, rule_config, rules_from, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import preview, screen_counts
from assets.kit.provenance import declare
from assets.kit.screening import kept

BankConfig = rule_config(BankRules, "BankConfig", path=(str | None, Field(
    default=None, description="A JSONL or Parquet file with a `question` column; default: the bank shipped in "
                              "assets/cinepile/.")))


@kit_asset(
    group="cinepile",
    rules=BankRules(),
    screen=True,
    check_specs=(provenance_spec,),
    description=(
        "Seed movie/video comprehension questions the templates are clustered from: the project's own "
        "bank (360 templated questions over CinePile's five categories) or any Parquet/JSONL file with a "
        "`question` column (config `path`). Empty, too short and repeated questions are rejected with a "
        "reason; a row's id is the bank file's name and its position there."
    ),
)
def question_bank(config: BankConfig):
    rules = rules_from(config, BankRules)
    source = Path(config.path) if config.path else DEFAULT_BANK
    raw = read_bank(source)
    df = declare(screen_bank(raw, rules, source.name))
    by_cat = {str(k): int(n) for k, n in kept(df).group_by("source_category").len().sort("source_category").rows()}
    yield versioned(df, {
        **screen_counts(df),
        "source": str(config.path or DEFAULT_BANK.name),
        "by_source_category": dg.MetadataValue.json(by_cat),
        "preview": preview(df, ["record_id", "question", "source_category", "words", "kept", "reason"]),
    }, rules=rules)
    yield from screen_check_results(df, n_inputs=raw.height)
    yield provenance_result(df)
