"""Near-duplicate documents and Q/A pairs on small hand-built texts (English, Japanese, Korean): exact
copies, near copies found through LSH and verified on shingles, a shard queried against an index (the
index's items never paired among themselves), Q/A near-duplicates against templated look-alikes,
templated repeats, and the grouping. No model is loaded: a bag-of-words encoder stands in for MiniLM."""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from assets.hygiene.text_duplicates import (
    QA,
    DocumentSignatures,
    TextDedupRules,
    changed_words,
    document_pairs,
    document_signatures,
    exact_key,
    group,
    normalise,
    qa_near_duplicates,
    qa_text,
    shingles,
    stem,
    templated_repeats,
    tokens,
    words_match,
)

REPORT = (
    "The committee met on Tuesday to review the annual budget of the city library. Members agreed that the "
    "reading room needs new lighting, that the children's section should open on Sunday afternoons, and that "
    "the archive of local newspapers must be digitised before the end of next year. The treasurer reported "
    "that donations grew by twelve percent, mostly from small gifts, while the cost of heating rose sharply."
)
MINUTES = (
    "The council discussed the renovation of the swimming pool on Monday evening. Residents asked for longer "
    "opening hours in summer, a ramp at the east entrance and cheaper tickets for students. The engineer "
    "explained that the roof leaks in two places and that the pumps are older than the building permit "
    "allows; the repairs will close the pool for six weeks starting in March, unless the funds arrive late."
)
JAPANESE = (
    "本日の会議では、市立図書館の年間予算について検討しました。閲覧室には新しい照明が必要であり、"
    "児童コーナーは日曜日の午後も開館すべきだという意見で一致しました。また、地元新聞の資料は来年末までに"
    "電子化しなければなりません。会計担当者によると、寄付は主に少額の寄付によって十二パーセント増加しました。"
)
KOREAN = (
    "오늘 회의에서는 시립 도서관의 연간 예산을 검토했습니다. 열람실에는 새로운 조명이 필요하며, 어린이 코너는 "
    "일요일 오후에도 문을 열어야 한다는 데 의견이 모였습니다. 지역 신문 자료는 내년 말까지 디지털화해야 합니다."
)


def ocr(text: str, edits: list[tuple[str, str]]) -> str:
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    return text


def pairs_of(frame: pl.DataFrame) -> set[tuple[str, str]]:
    return {(a, b) for a, b in frame.select("a", "b").iter_rows()}


# -------------------------------------------------------------------------------------------- normalising

def test_normalise_folds_width_case_punctuation_and_spacing():
    assert normalise("  Ｈｅｌｌｏ,\tWORLD!\n\nＡＢＣ１２３ ") == "hello world abc123"
    assert normalise("「東京」、大阪。") == "東京 大阪"
    assert normalise("") == ""


def test_cjk_is_tokenised_by_character_and_latin_by_word():
    assert tokens("市立図書館 library") == ["市", "立", "図", "書", "館", "library"]
    assert tokens("도서관의 예산") == ["도", "서", "관", "의", "예", "산"]
    # spacing inside CJK text changes nothing: its shingles are character n-grams
    assert np.array_equal(shingles("市立 図書館の 予算", 3), shingles("市立図書館の予算", 3))


def test_a_text_shorter_than_a_shingle_is_one_shingle_and_empty_text_none():
    assert len(shingles("hello world", 3)) == 1
    assert len(shingles("  \n ", 3)) == 0


def test_rules_are_frozen_strict_and_checked():
    rules = TextDedupRules()
    with pytest.raises(ValidationError):
        rules.jaccard = 0.1
    with pytest.raises(ValidationError):
        TextDedupRules(unknown=1)
    with pytest.raises(ValidationError):
        TextDedupRules(num_perm=64, bands=32, rows=4)
    assert "Jaccard >= 0.5" in rules.describe() and 0.3 < rules.lsh_threshold() < 0.6


# ---------------------------------------------------------------------------------------------- documents

def test_exact_copy_under_another_key_with_other_line_breaks():
    relanded = REPORT.replace(". ", ".\n").replace(",", " ,").upper()
    pairs = document_pairs([("report", REPORT), ("minutes", MINUTES), ("report-copy", relanded)])
    assert pairs.to_dicts() == [{"a": "report", "b": "report-copy", "jaccard": 1.0, "exact": True}]


@pytest.mark.parametrize("text,edits", [
    (REPORT, [("budget", "budgct"), ("lighting", "1ighting"), ("donations", "donatioms")]),
    (JAPANESE, [("予算", "予箅"), ("照明", "照朋"), ("十二", "十三")]),
    (KOREAN, [("도서관", "도서곤"), ("조명", "조멍")]),
])
def test_ocr_edits_and_a_changed_header_are_near_duplicates(text, edits):
    copy = "Scanned copy 2 of 3\n" + ocr(text, edits) + "\nPage 1"
    pairs = document_pairs([("original", text), ("copy", copy)])
    assert pairs.height == 1
    row = pairs.row(0, named=True)
    assert (row["a"], row["b"], row["exact"]) == ("copy", "original", False)
    assert 0.5 <= row["jaccard"] < 1.0


def test_different_documents_of_one_kind_are_not_paired():
    """Same subject (a library budget), same language pair, other words: never a pair."""
    other_report = REPORT.replace("library", "museum").split(". ")
    other_report = ". ".join(reversed(other_report))  # the same sentences in another order share little
    items = [("report", REPORT), ("minutes", MINUTES), ("japanese", JAPANESE), ("korean", KOREAN),
             ("empty1", ""), ("empty2", " \n ")]
    assert document_pairs(items).height == 0
    # the same sentences reordered share most 3-shingles: that is the same document, found
    assert pairs_of(document_pairs([("report", REPORT), ("reordered", other_report)])) == {("reordered", "report")}


def test_a_shard_is_queried_against_the_index_which_is_not_paired_with_itself():
    shard1 = [("report", REPORT), ("report-dup", REPORT + " "), ("minutes", MINUTES), ("ja", JAPANESE)]
    index = document_signatures(shard1)
    assert pairs_of(document_pairs(index)) == {("report", "report-dup")}  # pairs of the first shard

    shard2 = [("ja-ocr", ocr(JAPANESE, [("予算", "子算")])), ("minutes-2", MINUTES.replace("March", "April")),
              ("ko", KOREAN)]
    found = document_pairs(shard2, index)
    assert pairs_of(found) == {("ja-ocr", "ja"), ("minutes-2", "minutes")}
    assert not set(found["b"]) & {"report-dup"} and not set(found["a"]) & {"report", "report-dup"}

    # the index grows by appending: a third shard meets the first two, nothing is re-signed
    grown = index + document_signatures(shard2)
    assert isinstance(grown, DocumentSignatures) and grown.signatures.height == 7
    third = document_pairs([("ko-copy", KOREAN.replace(" ", "  "))], grown)
    assert pairs_of(third) == {("ko-copy", "ko")}


def test_band_rows_are_plain_tables():
    sig = document_signatures([("report", REPORT), ("empty", "")], TextDedupRules(bands=16, rows=8))
    assert sig.bands.schema == {"item": pl.String, "band": pl.Int32, "key": pl.UInt64}
    assert sig.bands.height == 16 and set(sig.bands["item"]) == {"report"}  # an empty text has no bands
    assert sig.signatures.filter(pl.col("item") == "empty")["exact"].to_list() == [None]


# ---------------------------------------------------------------------------------------------------- Q/A

SYNONYM_VECTORS = {"lady": "woman", "kid": "child", "beginning": "start"}


def fake_encode(texts: list[str]) -> np.ndarray:
    """Bag of stems hashed into 256 dimensions, with a few synonyms sharing a dimension."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for i, text in enumerate(texts):
        for tok in tokens(text):
            tok = SYNONYM_VECTORS.get(tok, tok)
            out[i, zlib.crc32(stem(tok).encode()) % 256] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_exact_key_ignores_case_punctuation_spacing_and_choice_order():
    assert exact_key("Why did the boy fall?", "He slipped", ["a", "He slipped", "c"]) == \
        exact_key("why  did the BOY fall", "he slipped.", ["c", "a", "he slipped"])
    assert exact_key("why did the boy fall") != exact_key("why did the girl fall")
    assert exact_key("why did the boy fall", "he slipped") != exact_key("why did the boy fall", "he tripped")


def test_changed_words_ignore_tense_and_function_words():
    assert changed_words("why did the boy fall", "why does the boy fall") == ([], [])
    assert changed_words("what is the man doing", "what was the man doing") == ([], [])
    assert changed_words("why did the baby open his mouth", "why did the baby opened his mouth") == ([], [])
    assert changed_words("where did the boy sit", "where has the boy sat") == ([], [])
    assert changed_words("why did the boy fall", "why did the girl fall") == (["boy"], ["girl"])
    assert changed_words("what did he do after the jump", "what did he do before the jump") == \
        (["after"], ["before"])


def test_words_match_takes_synonyms_not_contrasts_nor_numbers():
    assert words_match("what is the lady holding", "what is the woman holding", fake_encode)
    assert not words_match("what is the lady holding", "what is the woman holding", None)  # no encoder
    assert words_match("what is the relation between them", "what is the relationship between them", None)
    assert not words_match("why did the boy fall", "why did the girl fall", fake_encode)
    assert not words_match("how many dogs are there", "how many dogs are there two", fake_encode)
    assert not words_match("there are two dogs", "there are three dogs", lambda ws: np.ones((len(ws), 4)) / 2)


def test_qa_near_duplicates_within_a_video_and_not_templated_lookalikes():
    rows = [
        QA("v1/0", "why did the boy fall at the end", "he slipped", ("he slipped", "he jumped")),
        QA("v1/1", "Why does the boy fall at the end?", "he slipped", ("he jumped", "he slipped")),
        QA("v1/2", "why did the girl fall at the end", "he slipped", ("he slipped", "he jumped")),
        QA("v1/3", "what is the lady holding", "a cup"),
        QA("v1/4", "what is the woman holding", "a cup"),
        QA("v1/5", "what did the boy do after the jump", "clap"),
        QA("v1/6", "what did the boy do before the jump", "clap"),
        QA("v2/0", "why did the boy fall at the end", "he tripped", ("he tripped", "he sat")),
        QA("v2/1", "what is the lady holding", "a cup"),
    ]
    scope = [r.id.split("/")[0] for r in rows]
    vectors = fake_encode([qa_text(r) for r in rows])
    found = qa_near_duplicates(rows, vectors, scope, TextDedupRules(qa_cosine=0.6), fake_encode)
    assert pairs_of(found) == {("v1/0", "v1/1"), ("v1/3", "v1/4"), ("v1/3", "v2/1"), ("v1/4", "v2/1")}
    by = {(a, b): (ex, same) for a, b, _, ex, same in found.iter_rows()}
    assert by[("v1/0", "v1/1")] == (False, True)  # a tense change: near, not exact
    assert by[("v1/3", "v2/1")] == (True, False)  # the same record landed under another scope
    assert by[("v1/3", "v1/4")] == (False, True)
    assert (found["cosine"] >= 0.6).all()

    # without cross-scope search only the same-scope pairs remain
    within = qa_near_duplicates(rows, vectors, scope, TextDedupRules(qa_cosine=0.6, across_scopes=False),
                                fake_encode)
    assert pairs_of(within) == {("v1/0", "v1/1"), ("v1/3", "v1/4")}


def test_a_templated_question_is_not_paired_across_scopes():
    rows = [QA(f"v{i}/0", "where is this video taken", "park") for i in range(5)]
    rows.append(QA("v0/1", "Where is this video taken?", "park"))
    scope = [r.id.split("/")[0] for r in rows]
    found = qa_near_duplicates(rows, fake_encode([qa_text(r) for r in rows]), scope, encode=fake_encode)
    assert pairs_of(found) == {("v0/0", "v0/1")}  # on its own video it is still a duplicate


def test_templated_repeats_flag_copies_past_the_first_scopes():
    rows = [(f"q{i}", f"video{i // 2}", "Where is this video taken?") for i in range(10)]  # 5 videos
    rows += [("b1", "video0", "why did the boy fall"), ("g1", "video1", "why did the girl fall"),
             ("b2", "video2", "Why did the boy fall?")]
    flags = templated_repeats(rows, TextDedupRules(template_scopes=3))
    by = {r["id"]: r for r in flags.iter_rows(named=True)}
    assert by["q0"]["scopes"] == 5 and by["q0"]["template"] == "where is this video taken"
    assert [by[f"q{i}"]["repeat"] for i in range(10)] == [False] * 6 + [True] * 4
    assert not any(by[k]["repeat"] for k in ("b1", "g1", "b2"))  # two scopes each: below the limit
    assert by["b2"]["template"] == by["b1"]["template"] != by["g1"]["template"]


# ----------------------------------------------------------------------------------------------- grouping

def test_group_keeps_the_first_landed_or_the_best_ranked():
    items = ["a", "b", "c", "d", "e"]
    pairs = [("c", "b"), ("d", "c"), ("e", "x")]
    assert group(items, pairs) == {"a": "a", "b": "b", "c": "b", "d": "b", "e": "e", "x": "e"}
    ranked = group(items, pairs, rank={"d": 0, "b": 1, "c": 2})
    assert ranked["b"] == ranked["c"] == ranked["d"] == "d"
    frame = pl.DataFrame({"a": ["b"], "b": ["a"], "jaccard": [0.9]})
    assert group(items, frame)["b"] == "a"
