"""The release's dataset card: what a downstream user needs to trust and load it.

Every number in it is computed from the release and the filter verdicts it was built from, and the
screening rules it states are the parameters the screens ran with (their `rule_params`), so the
card cannot drift from the data. The generating models come from the release's `models` column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from assets.docmatix.held_out import TEST_ITEMS
from assets.docmatix.metrics import ANLS_THRESHOLD
from assets.docmatix.qa_filters import QAFilterRules
from assets.docmatix.question_forms import KOREAN_AT
from assets.docmatix.reading import DocumentRules
from assets.docmatix.release import SPLIT_SALT, TEST_FRACTION, document_language
from assets.docmatix.rendering import DPI, MAX_SIDE
from assets.kit.markdown import markdown_table
from assets.kit.screening import RuleSet

SCREENS: dict[str, type[RuleSet]] = {"documents": DocumentRules, "filtered_qa": QAFilterRules}

def model_table(release: pl.DataFrame) -> pl.DataFrame:
    """Documents per model entry (role, backend, model, task version) of the release's `models`."""
    entries = release.select("models").explode("models").drop_nulls("models").unnest("models")
    if entries.height == 0:
        return pl.DataFrame(schema={"role": pl.String, "backend": pl.String, "model": pl.String,
                                    "task_version": pl.String, "documents": pl.UInt32})
    return (entries.group_by("role", "backend", "model", "task_version").len("documents")
            .sort("documents", "role", "model", descending=[True, False, False]))


def screen_params(used: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> dict[str, list[RuleSet]]:
    """The rule sets each screen ran with (one per distinct `rule_params` seen over the shards),
    defaults for a screen with no record of its parameters."""
    used = used or {}
    return {name: [cls(**p) for p in used.get(name) or []] or [cls()] for name, cls in SCREENS.items()}


def _rules_text(rule_sets: Sequence[RuleSet]) -> str:
    if len(rule_sets) == 1:
        return rule_sets[0].describe()
    return " / ".join(f"shards run with ({r.describe()})" for r in rule_sets)


def _split_table(release: pl.DataFrame) -> pl.DataFrame:
    return (
        release.group_by("split")
        .agg(
            pl.len().alias("documents"),
            pl.col("images").list.len().sum().alias("images"),
            pl.col("texts").list.len().sum().alias("qa_pairs"),
        )
        .sort("split", descending=True)
    )


def _language_table(release: pl.DataFrame) -> pl.DataFrame:
    """Documents per language (read from their pairs, as the split reads it) and split."""
    langs = [document_language(t) for t in release["texts"].to_list()]
    return (release.select("split").with_columns(pl.Series("language", langs, dtype=pl.String))
            .group_by("language", "split").len("documents").sort("language", "split", descending=[False, True]))


LIMITATIONS = (
    "Licences are not tracked per document: each document keeps the licence of its PDFA source.",
    "Questions are written from the text layer; charts and figures without text get no questions.",
    "Without a judge model the LAVE column of the evaluation is a rubric proxy, not LAVE.",
)


def card_data(release: pl.DataFrame, removal: pl.DataFrame, forms: pl.DataFrame,
              screens: Mapping[str, Sequence[RuleSet]] | None = None,
              variants: Sequence[str] = ()) -> dict:
    """The machine-readable card: the same numbers as the Markdown, for tools that gate a release."""
    screens = screens or screen_params()
    return {
        "name": "docmatix",
        "documents": release.height,
        "qa_pairs": int(release["texts"].list.len().sum() or 0),
        "images": int(release["images"].list.len().sum() or 0),
        "splits": _split_table(release).to_dicts(),
        "languages": _language_table(release).to_dicts(),
        "split_rule": {"salt": SPLIT_SALT, "test_fraction": TEST_FRACTION, "eval_items": TEST_ITEMS},
        "models": model_table(release).to_dicts(),
        "prompt_variants": list(variants),
        "screens": {name: [r.model_dump(mode="json") for r in sets] for name, sets in screens.items()},
        "render": {"dpi": DPI, "max_side_px": MAX_SIDE, "format": "png"},
        "filter_removal": removal.to_dicts(),
        "question_forms": forms.rename({"len": "pairs"}).to_dicts(),
        "licences": "per PDFA source (not tracked per document)",
        "known_limitations": list(LIMITATIONS),
        "columns": release.columns,
    }


def dataset_card(release: pl.DataFrame, removal: pl.DataFrame, forms: pl.DataFrame,
                 screens: Mapping[str, Sequence[RuleSet]] | None = None, variants: Sequence[str] = ()) -> str:
    """Markdown with a YAML header in the Hugging Face card format.

    `removal`: rule, compat, default (pairs removed) over all shards; `forms`: question_form, len;
    `screens`: the rule sets the screens ran with (`screen_params`); `variants`: the prompt variants
    the released pairs were written with.
    """
    screens = screens or screen_params()
    splits = _split_table(release)
    models = model_table(release)
    total_qa = int(release["texts"].list.len().sum() or 0)
    languages = _language_table(release)
    return "\n".join([
        "---",
        "license: other  # each document keeps the licence of its PDFA source",
        "task_categories: [visual-question-answering]",
        f"language: [{', '.join(sorted(set(languages['language'])) or ['en'])}]",
        "---",
        "# Docmatix-style document Q/A (mmfoundry)",
        "",
        f"{release.height} documents, {total_qa} question/answer pairs about their rendered pages, "
        "built as Docmatix was (PDFA documents, an LLM writing Q/A from each document's text, page "
        "images) with the departures listed below. Every row can be traced to its PDFA key, its "
        "page images' sha256 and the model call that wrote its pairs (`parent_ids`, `models`).",
        "",
        "## Schema",
        "",
        "- `images`: the document's page images, in page order (PNG URIs; `image_sha256` beside them)",
        "- `texts`: list of `{user, assistant, source}`: a question, its answer, the PDFA key",
        "- provenance: `record_id` (`docmatix:<document id>`), `document_id` (`pdf:<shard>:<PDFA key>`, "
        "where the PDF landed), `doc_key` (the PDFA key), `source_key` (`pdf:<sha256>`, one per distinct "
        "file; each is released once), `shard`, `qa_ids` and `qa_pages` (each pair's id and the page its "
        "answer is on), `page_ids` (the page images' records), `parent_ids` (the document, its pairs and "
        "pages) and `models` (role, backend, model, task version, prompt hash and fingerprint of the call "
        "that wrote the pairs)",
        "",
        "## Splits",
        "",
        markdown_table(splits),
        "",
        f"Documents by language (Hangul in at least {KOREAN_AT:.0%} of the letters of their pairs is Korean):",
        "",
        markdown_table(languages),
        "",
        f"A document is in `test` when sha256('{SPLIT_SALT}:' + key) falls in the first "
        f"{TEST_FRACTION:.0%} of the hash range, so train and test share no document and a document's "
        f"split never changes as shards are added; when that sends none of a language's documents (two or "
        f"more) to test, its lowest-hash one goes there, so each language is evaluated. The zero-shot "
        f"DocVQA evaluation uses the first {TEST_ITEMS} test pairs (or all, if fewer) in hash order.",
        "",
        "## How it was made",
        "",
        "- Documents: PDFA-layout text (PDFA JSON when present, else the PDF's text layer), screened by "
        f"the rules {_rules_text(screens['documents'])}.",
        "- Generation: one call per document, its system prompt chosen by a hash of the key "
        f"({'variants used: ' + ', '.join(variants) if variants else 'no variant recorded'}), pages joined "
        "by NEW PAGE, Q#/A# output.",
        "",
        markdown_table(models, max_rows=20),
        "",
        f"- Images: {DPI} dpi, longest side at most {MAX_SIDE} px, PNG.",
        "- Filtering: the default profile (answers grounded in the page, pairs answerable from the page: "
        "the answer printed there, the question's words around it and nowhere better, template slots that "
        "are real headers or keys; one copy of a repeated question "
        "per document, sane lengths, Docmatix's regexes without their false hits on decimals, URLs and "
        f"printed text), with the rules {_rules_text(screens['filtered_qa'])}. Pairs removed per rule (a "
        "pair can fail several):",
        "",
        markdown_table(removal, max_rows=40),
        "",
        "Question forms of the released pairs:",
        "",
        markdown_table(forms, max_rows=20),
        "",
        "## Departures from Docmatix",
        "",
        "- Docmatix's regex filter alone rejects every decimal, URL and e-mail address (`\\w+\\.\\w+`) "
        "and never checks an answer against the page; here both are fixed, and the regex-only "
        "verdict is still recorded per pair (`compat` profile in `filtered_qa`).",
        "- The prompt variant is chosen by a hash of the document key instead of at random, so a "
        "rerun reproduces (and reuses) every call.",
        "- The split is by document and stable under growth, instead of a fixed row range.",
        "",
        "## Evaluation",
        "",
        f"See `docvqa_evaluation`: ANLS (threshold {ANLS_THRESHOLD}), exact match, BLEU and CIDEr-D (on "
        "coco-caption's PTB tokens) and LAVE (its prompt, references and yes/no rule) per model adapter. "
        "The test questions (`docvqa_test_split`) are drawn only from test pairs that pass the "
        "answerability rules again on their page; its metadata says how many were checked and why any "
        "were left out. Without a judge model the LAVE column is `lave_proxy`, a rule-based stand-in "
        "following LAVE's rubric (split references give 2, synonyms and broader terms count), not LAVE.",
        "",
        "## Known limitations",
        "",
        *[f"- {line}" for line in LIMITATIONS],
    ])
