"""`docmatix_dataset_card`: the release's card, built from the release, the filter verdicts and the
rule parameters the screens recorded."""

import json
from collections.abc import Iterable

import dagster as dg
import polars as pl

from assets.docmatix.dataset_card import SCREENS, card_data, dataset_card, screen_params
from assets.docmatix.duplicate_assets import DOCUMENT_RULES, QA_RULES
from assets.docmatix.qa_filters import removal_table
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec
from assets.kit.hygiene_card import hygiene_markdown, hygiene_rows
from assets.kit.identity import record_id
from assets.kit.metadata import preview, uri_value
from assets.kit.provenance import declare
from assets.kit.screening import kept
from assets.kit.shard_frames import concat_shards
from resources.storage import MediaStore


def recorded_rule_params(instance: dg.DagsterInstance, assets: Iterable[str], shards: Iterable[str]
                         ) -> dict[str, list[dict]]:
    """Per screen, each distinct `rule_params` its latest materialization of each shard recorded."""
    out: dict[str, list[dict]] = {}
    for asset in assets:
        seen: dict[str, dict] = {}
        for shard in shards:
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[shard]), limit=1).records
            meta = records[0].asset_materialization.metadata if records and records[0].asset_materialization else {}
            if "rule_params" in meta:
                params = meta["rule_params"].value
                seen.setdefault(json.dumps(params, sort_keys=True), params)
        out[asset] = list(seen.values())
    return out


@kit_asset(
    group="docmatix",
    kinds=("markdown",),
    check_specs=(provenance_spec,),
    description=(
        "The release's dataset card (Hugging Face format Markdown + a JSON card): schema, split rule "
        "and sizes, the generating models (from the release's `models`), the screening rules as they "
        "ran (each shard's recorded rule parameters), render settings, per-rule filter removal, "
        "question forms, what each hygiene rule removed (duplicate documents and Q/A pairs) and "
        "departures from Docmatix. Stored by content in the media store; the row "
        "holds its URI and text, and lists the release rows it describes in `parent_ids`."
    ),
)
def docmatix_dataset_card(context: dg.AssetExecutionContext, docmatix_dataset: pl.DataFrame, filtered_qa,
                          qa_duplicates, document_duplicates: pl.DataFrame, media: MediaStore):
    qa = concat_shards(filtered_qa, "filtered_qa")
    shards = sorted(qa["shard"].drop_nulls().unique().to_list()) if qa.height else []
    screens = screen_params(recorded_rule_params(context.instance, SCREENS, shards))
    released = kept(qa).filter(pl.col("document_id").is_in(docmatix_dataset["document_id"].implode()))
    variants = released["variant"].drop_nulls().unique().sort().to_list() if "variant" in released.columns else []
    forms = released.group_by("question_form").len().sort("len", "question_form", descending=[True, False])
    removal = removal_table(qa, screens["filtered_qa"][0])
    card = dataset_card(docmatix_dataset, removal, forms, screens, variants)
    hygiene = hygiene_rows({
        "document_duplicates": (document_duplicates, [r.reason for r in DOCUMENT_RULES.rules()]),
        "qa_duplicates": (concat_shards(qa_duplicates, "qa_duplicates"), [r.reason for r in QA_RULES.rules()])})
    card += hygiene_markdown(hygiene)
    data = {**card_data(docmatix_dataset, removal, forms, screens, variants), "hygiene": hygiene}
    ref = media.put_bytes(card.encode(), ".md")
    json_ref = media.put_bytes(json.dumps(data, ensure_ascii=False, indent=2, default=str).encode(), ".json")
    df = pl.DataFrame({"record_id": [record_id("dataset_card", "docmatix")], "card_uri": [ref.uri],
                       "card_sha256": [ref.sha256], "card_json_uri": [json_ref.uri], "markdown": [card],
                       "release_ids": [docmatix_dataset["record_id"].to_list()]},
                      schema_overrides={"release_ids": pl.List(pl.String)})
    df = declare(df, parents=["release_ids"]).drop("release_ids")
    yield versioned(df, {"dagster/row_count": 1, "card_uri": uri_value(ref.uri),
                         "card_json_uri": uri_value(json_ref.uri), "card": dg.MetadataValue.md(card),
                         "preview": preview(df, ["record_id", "card_uri", "card_sha256"])})
    yield provenance_result(df)
