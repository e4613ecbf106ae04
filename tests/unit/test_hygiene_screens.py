"""The hygiene screens' verdict logic on hand-built rows: which copy each group keeps, what each
rejection names, captions rewritten beside their originals, and the balanced mix."""

import json

import numpy as np
import polars as pl

from assets.cinepile.duplicate_assets import RULES as QUESTION_RULES
from assets.cinepile.duplicate_assets import question_verdicts
from assets.docmatix.duplicate_assets import document_verdicts, qa_verdicts
from assets.finevideo.caption_review import review
from assets.finevideo.video_duplicates import RULES as VIDEO_RULES
from assets.finevideo.video_duplicates import verdicts
from assets.hygiene.incremental import split
from assets.kit.screening import screen
from assets.quality.balance_assets import BalanceConfig, rules_for
from resources.llm import LLMResource


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A deterministic stand-in encoder: normalised counts over a hashed vocabulary."""
    out = np.zeros((len(texts), 256), np.float32)
    for i, t in enumerate(texts):
        for w in t.lower().replace("?", " ").replace(".", " ").split():
            out[i, hash(w) % 256] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_a_video_group_keeps_its_longest_copy_and_landings_of_one_source_share_a_verdict():
    recs = pl.DataFrame({
        "record_id": ["yt:s1:a:0", "yt:s2:b:0", "yt:s2:c:1", "yt:s3:a:0", "yt:s3:d:0"],
        "shard": ["s1", "s2", "s2", "s3", "s3"],
        "duration_s": [60.0, 45.0, 60.0, 60.0, 30.0], "width": [640, 1280, 640, 640, 320],
        "height": [360, 720, 360, 360, 180], "license": ["cc-by"] * 5,
        "sha256": ["x", "y", "x", "x", "z"], "landed_at": [0, 1, 1, 2, 2],
        "source": ["yt:a", "yt:b", "yt:c", "yt:a", "yt:d"]})
    items = pl.DataFrame({"item": recs["record_id"], "hashes": [[1, 2]] * 5}, schema_overrides={
        "hashes": pl.List(pl.UInt64)})
    pairs = pl.DataFrame({"a": ["yt:s2:b:0"], "b": ["yt:s1:a:0"], "share": [0.8], "matched": [4]})
    out = screen(verdicts(recs, items, pairs), VIDEO_RULES.rules())
    by = {r["record_id"]: r for r in out.iter_rows(named=True)}
    # a (60 s) beats the 45 s trim b; c is a's bytes under another id; a's second landing is a's source
    assert by["yt:s1:a:0"]["kept"] and by["yt:s3:a:0"]["kept"] and by["yt:s3:d:0"]["kept"]
    assert (by["yt:s2:b:0"]["reason"], by["yt:s2:b:0"]["duplicate_of"], by["yt:s2:b:0"]["share"]) == (
        "near_duplicate_video", "yt:s1:a:0", 0.8)
    assert (by["yt:s2:c:1"]["reason"], by["yt:s2:c:1"]["same_file_as"]) == ("duplicate_file", "yt:s1:a:0")
    assert out.height == recs.height  # every input is a row


def test_a_run_reuses_unchanged_shards_and_signs_the_rest():
    items = pl.DataFrame({"item": ["a", "b", "c"], "shard": ["s1", "s1", "s2"], "digest": ["d1", "d1", "d2"]})
    pairs = pl.DataFrame({"a": ["a", "a"], "b": ["b", "c"]})
    parts = split({"s1": "d1", "s2": "changed", "s3": "d3"}, {"items": items, "pairs": pairs}, items.schema,
                  pairs.schema)
    assert parts.reused_items["item"].to_list() == ["a", "b"] and parts.fresh_shards == ["s2", "s3"]
    assert parts.reused_pairs.rows() == [("a", "b")]  # a pair with a changed shard's item is found again
    assert split({"s1": "d1"}, None, items.schema, pairs.schema).fresh_shards == ["s1"]


def test_documents_the_same_pages_and_near_text_name_the_first_landed():
    recs = pl.DataFrame({"record_id": ["d1", "d2", "d3", "d4", "e1", "e2"], "shard": ["s1", "s2", "s2", "s2", "s1", "s2"],
                         "pages": [2, 2, 3, 1, 2, 2], "sha256": ["h1", "h2", "h3", "h4", "h5", "h6"],
                         "page_hashes": ["p|q", "p|q", "r|s|t", "u", None, "v|w"], "landed_at": [0, 1, 1, 1, 0, 1],
                         "rendered": [True, True, True, True, False, True],
                         "source": ["f1", "f2", "f3", "f4", "f5", "f6"]})
    pairs = pl.DataFrame({"a": ["d3", "e2"], "b": ["d1", "e1"], "jaccard": [0.7, 0.9], "exact": [False, False]})
    from assets.docmatix.duplicate_assets import DOCUMENT_RULES

    out = {r["record_id"]: r for r in screen(document_verdicts(recs, pairs), DOCUMENT_RULES.rules())
           .iter_rows(named=True)}
    assert (out["d2"]["reason"], out["d2"]["same_pages_as"]) == ("duplicate_pages", "d1")
    assert (out["d3"]["reason"], out["d3"]["duplicate_of"], out["d3"]["jaccard"]) == (
        "near_duplicate_document", "d1", 0.7)
    assert out["d1"]["kept"] and out["d4"]["kept"] and out["d1"]["group_size"] == 3
    # a copy whose pages all rendered is kept over an earlier one the release would withhold
    assert out["e2"]["kept"] and (out["e1"]["reason"], out["e1"]["duplicate_of"]) == ("near_duplicate_document", "e2")


def test_a_repeated_pair_on_a_page_is_rejected_and_the_first_kept():
    qa = pl.DataFrame({"record_id": ["q1", "q2", "q3"], "shard": ["s"] * 3, "document_id": ["d"] * 3,
                       "page": [0, 0, 0], "pair_index": [0, 1, 2],
                       "question": ["What is the total amount?", "what is the TOTAL amount", "Who signed it?"],
                       "answer": ["$120", "$120", "J. Smith"]})
    out = {r["record_id"]: r for r in qa_verdicts(qa, bag_of_words).iter_rows(named=True)}
    assert out["q2"]["same_as"] == "q1" and out["q1"]["same_as"] is None and out["q1"]["duplicate_of"] is None
    assert out["q3"]["same_as"] is None and out["q3"]["duplicate_of"] is None


def test_templated_repeats_are_one_question_with_one_answer_on_many_videos():
    videos = [f"v{i}" for i in range(5)]
    rows = [{"record_id": f"r{i}", "question_id": f"q{i}", "video_id": v, "question": "What colour is the car?",
             "answer_key": "Red", "choices": ["Red", "Blue", "Green", "Black", f"White {i}"]}
            for i, v in enumerate(videos)]
    rows += [{"record_id": f"s{i}", "question_id": f"t{i}", "video_id": v, "question": "Who enters the room?",
              "answer_key": f"Person {i}", "choices": [f"Person {i}", "A", "B", "C", "D"]}
             for i, v in enumerate(videos)]
    judged = screen(question_verdicts(pl.DataFrame(rows), bag_of_words), QUESTION_RULES.rules())
    repeats = judged.filter(pl.col("reason") == "templated_repeat")["record_id"].to_list()
    assert sorted(repeats) == ["r3", "r4"]  # past the first three videos; answers of their own are no repeat
    assert judged.filter(pl.col("record_id").str.starts_with("s"))["kept"].all()


def test_caption_review_rewrites_fixable_prose_keeps_the_original_and_rejects_the_rest():
    good = {"title": "t", "description": "A chef slices onions on a wooden board. Subscribe to my channel for more!",
            "storylines": {"description": "The cook prepares a meal step by step in a small kitchen.",
                           "climax": {"description": "The finished dish is served to the family."}}}
    bad = {"title": "t", "description": "Le chef coupe les oignons sur une planche en bois avec un couteau.",
           "storylines": {"description": "", "climax": {"description": ""}}}
    rows = pl.DataFrame({"record_id": ["a", "b"], "video_id": ["a", "b"], "shard": ["s", "s"],
                         "content_metadata": [json.dumps(good), json.dumps(bad)]})
    out, meta = review(rows, LLMResource())
    a, b = out.row(0, named=True), out.row(1, named=True)
    assert a["kept"] and "boilerplate" in a["caption_flags"] and a["fields_rewritten"] == ["description"]
    assert "Subscribe" not in json.loads(a["content_metadata"])["description"]
    assert json.loads(a["caption_original"]) == {"description": good["description"]}
    assert [m["role"] for m in a["models"]] == ["caption_flags", "caption_rewrite"]
    assert not b["kept"] and b["reason"] == "caption_non_english" and b["caption_original"] is None
    assert meta["fields_reviewed"] == 4


def test_the_mix_cap_never_asks_for_less_than_an_even_share():
    assert rules_for(BalanceConfig(max_share=0.2), groups=3).max_share == 1 / 3
    assert rules_for(BalanceConfig(max_share=0.5), groups=3).max_share == 0.5
    assert rules_for(BalanceConfig(target="uniform"), groups=3).max_share is None
