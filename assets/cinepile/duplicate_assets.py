"""Near-duplicate questions and templated repeats among the refined CinePile questions.

Two questions about one video that ask the same thing (the same normalised question, answer and
choices, or the same question and answer in other words: sentence-embedding cosine, then no content
word changed) are one question; so are two with the same choices across videos (a clip landed twice).
The first by id is kept (`near_duplicate_question`). Apart from that, one question with one answer on
many videos ("what colour is the car" / "red") carries nothing about any of them: past the first
`template_scopes` videos its copies are `templated_repeat`. A template asked of many videos with
answers of their own is not a repeat. Thresholds: hygiene/text_duplicates.py."""

import dagster as dg
import polars as pl

from assets.hygiene.groups import kept_copies
from assets.hygiene.text_duplicates import DEFAULTS, TextDedupRules, qa_near_duplicates, templated_repeats
from assets.kit.asset_kit import kit_asset, versioned
from assets.kit.checks import provenance_result, provenance_spec, screen_check_results
from assets.kit.metadata import preview, screen_counts
from assets.kit.provenance import declare
from assets.kit.screening import Rule, RuleSet, kept, screen
from resources.embeddings import EmbeddingResource

COLUMNS = ["record_id", "question_id", "video_id", "question", "answer_key", "choices"]


class QuestionDuplicateRules(RuleSet):
    match: TextDedupRules = DEFAULTS

    def rules(self) -> list[Rule]:
        return [Rule(reason="near_duplicate_question", column="duplicate_of", op="is_null"),
                Rule(reason="templated_repeat", column="templated_repeat", op="is_false", shown="template_videos")]

    def describe(self) -> str:
        return (f"{super().describe()}; {self.match.describe()} (a templated repeat: one question with one "
                f"answer); the first question by id is kept")


RULES = QuestionDuplicateRules()


def question_verdicts(questions: pl.DataFrame, encode) -> pl.DataFrame:
    rows = questions.select(COLUMNS).sort("record_id")
    items = [(r, q, a, tuple(c or ())) for r, _, _, q, a, c in rows.iter_rows()]
    scope = rows["video_id"].to_list()
    vectors = encode([f"{q}\n{a}" for _, q, a, _ in items])
    pairs = qa_near_duplicates(items, vectors, scope, RULES.match, encode=encode)
    repeats = templated_repeats([(r, v, f"{q} {a}") for (r, q, a, _), v in zip(items, scope, strict=True)],
                                RULES.match).select(record_id="id", templated_repeat="repeat", template_videos="scopes")
    # a group keeps a question that is no templated repeat where it has one, so a copy never names a rejected one
    ranked = rows.select(item="record_id").join(repeats.select(item="record_id", repeat="templated_repeat"), on="item")
    groups = kept_copies(ranked, pairs, ["repeat", "item"]).select(record_id="item", duplicate_of="duplicate_of")
    both = pl.concat([pairs.select("a", "b", "cosine"), pairs.select(a="b", b="a", cosine="cosine")])
    return (rows.join(groups, on="record_id", how="left")
            .join(both.rename({"a": "record_id", "b": "duplicate_of"}), on=["record_id", "duplicate_of"], how="left")
            .join(repeats, on="record_id", how="left"))


@kit_asset(
    group="cinepile",
    screen=True,
    rules=RULES,
    check_specs=(provenance_spec,),
    ins={"refined_questions": dg.AssetIn()},
    description=(
        "Question hygiene before release: near-duplicate questions (about one video, or with the same "
        "choices across videos: exact after normalising, or the same in other words) and templated repeats "
        "(one question with one answer on more videos than the rule allows). Every kept refined question "
        "is a row; a copy names the question kept in its place."
    ),
)
def question_duplicates(context: dg.AssetExecutionContext, refined_questions: pl.DataFrame,
                        embeddings: EmbeddingResource):
    good = kept(refined_questions) if refined_questions.height else refined_questions
    if good.height:
        judged = question_verdicts(good, embeddings.encode)
    else:
        judged = pl.DataFrame(schema={"record_id": pl.String, "question_id": pl.String, "video_id": pl.String,
                                      "question": pl.String, "answer_key": pl.String,
                                      "choices": pl.List(pl.String), "duplicate_of": pl.String,
                                      "cosine": pl.Float64, "templated_repeat": pl.Boolean,
                                      "template_videos": pl.Int64})
    # the same question records, judged again: no parents, no model
    out = declare(screen(judged, RULES.rules())).drop("choices")
    yield versioned(out, {
        **screen_counts(out),
        "preview": preview(out.filter(~pl.col("kept")) if out.height else out,
                           ["record_id", "question", "answer_key", "reason", "duplicate_of", "cosine",
                            "template_videos"]),
    }, rules=RULES)
    yield from screen_check_results(out, n_inputs=good.height)
    yield provenance_result(out)
