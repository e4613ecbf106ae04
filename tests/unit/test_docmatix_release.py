"""The release: schema, document-level split, the held-out test items; grounding pairs and the card."""

from __future__ import annotations

import json

import polars as pl
import pytest

from assets.docmatix.conversations import grounding_pairs
from assets.docmatix.dataset_card import card_data, dataset_card
from assets.docmatix.held_out import held_out_items
from assets.docmatix.pdfa import page_from_lines
from assets.docmatix.release import TEST_FRACTION, assign_splits, document_language, release_rows, split_rank


def test_split_is_by_hash_stable_and_never_empty():
    keys = [f"{i:07d}" for i in range(400)]
    splits = assign_splits(keys)
    share = sum(s == "test" for s in splits.values()) / len(keys)
    assert abs(share - TEST_FRACTION) < 0.07
    assert all(splits[k] == ("test" if split_rank(k) < TEST_FRACTION else "train") for k in keys)
    # adding documents never moves one that was already assigned
    more = assign_splits(keys + [f"x{i}" for i in range(100)])
    assert all(more[k] == splits[k] for k in keys)
    # two documents that both hash to train: the lower-hash one goes to test
    train_only = [k for k in keys if split_rank(k) >= TEST_FRACTION][:2]
    pair = assign_splits(train_only)
    assert sorted(pair.values()) == ["test", "train"] and pair[min(train_only, key=split_rank)] == "test"
    assert assign_splits(train_only[:1]) == {train_only[0]: "train"}


def test_each_language_with_two_documents_gets_a_test_document():
    keys = [f"{i:07d}" for i in range(40)]
    train_only = sorted((k for k in keys if split_rank(k) >= TEST_FRACTION), key=split_rank)
    english = [k for k in keys if k not in train_only[:3]]
    languages = {**dict.fromkeys(english, "en"), **dict.fromkeys(train_only[:3], "ko")}
    by_hash = assign_splits(keys)
    splits = assign_splits(keys, languages=languages)
    assert all(by_hash[k] == "train" for k in train_only[:3])  # the hash alone leaves Korean untested
    assert [splits[k] for k in train_only[:3]] == ["test", "train", "train"]  # its lowest hash goes to test
    assert {k: v for k, v in splits.items() if languages[k] == "en"} == {k: by_hash[k] for k in english}
    assert document_language([{"user": "문서에 적힌 발행일은 무엇입니까?", "assistant": "2024년 5월 17일"}]) == "ko"
    assert document_language([{"user": "What is the total?", "assistant": "3,131,000원"}]) == "en"


ENTRY = {"role": "qa", "backend": "offline", "model": "offline:m", "task_version": "docmatix_qa@1",
         "prompt_sha": "p", "fingerprint": "f"}


def doc_id(doc: str, shard: str = "s1") -> str:
    return f"pdf:{shard}:{doc}"


def _qa(doc: str, n: int, pages: list[int], shard: str = "s1", content: str | None = None) -> list[dict]:
    return [{"record_id": f"qa:{doc_id(doc, shard)}:{i}", "document_id": doc_id(doc, shard), "doc_key": doc,
             "source_key": f"pdf:{content or doc}", "shard": shard, "pair_index": i,
             "question": f"Question {i} of {doc}?", "answer": f"answer {i}", "page": pages[i], "models": [ENTRY]}
            for i in range(n)]


def _images(doc: str, pages: int, rendered: bool = True, shard: str = "s1") -> list[dict]:
    return [{"record_id": f"page:{doc_id(doc, shard)}:{p}", "document_id": doc_id(doc, shard), "page": p,
             "image_uri": f"file:///{doc}-{p}.png", "image_sha256": f"{doc}{p}", "kept": rendered}
            for p in range(pages)]


def test_release_rows_have_docmatix_schema_and_withhold_unrendered_documents():
    docs = [f"{i:07d}" for i in range(8)]
    qa = pl.DataFrame(sum((_qa(d, 3, [0, 1, 1]) for d in docs), []))
    images = pl.DataFrame(sum((_images(d, 2, rendered=d != docs[0]) for d in docs), []))
    release, withheld = release_rows(qa, images)
    assert withheld == {"page_not_rendered": 1, "duplicate_source": 0}
    assert doc_id(docs[0]) not in release["document_id"].to_list()
    row = release.filter(pl.col("document_id") == doc_id(docs[1])).row(0, named=True)
    assert row["record_id"] == f"docmatix:(pdf:s1:{docs[1]})"
    assert row["images"] == [f"file:///{docs[1]}-0.png", f"file:///{docs[1]}-1.png"]
    assert row["texts"][0] == {"user": f"Question 0 of {docs[1]}?", "assistant": "answer 0", "source": docs[1]}
    qa_ids = [f"qa:{doc_id(docs[1])}:{i}" for i in range(3)]
    assert row["qa_ids"] == qa_ids and row["qa_pages"] == [0, 1, 1]
    assert row["parent_ids"] == [doc_id(docs[1]), *qa_ids, *(f"page:{doc_id(docs[1])}:{p}" for p in (0, 1))]
    assert row["models"] == [ENTRY]
    assert not {"backend", "model", "task_version", "prompt_sha"} & set(release.columns)
    assert set(release["split"]) == {"train", "test"}

    # each page prints its pairs' answers, except the third pair's: it is checked and left out
    pages = {doc_id(d): [f"Question 0 of {d}: answer 0", f"Question 1 of {d}: answer 1\nQuestion 2 of {d}: see above"]
             for d in docs}
    items, check = held_out_items(release, pages)
    test_docs = set(release.filter(pl.col("split") == "test")["document_id"])
    assert set(items["document_id"]) == test_docs and items.height == 2 * len(test_docs)
    assert check.as_dict() == {"checked": 3 * len(test_docs), "answerable": 2 * len(test_docs),
                               "excluded": {"answer_not_on_page": len(test_docs)}}
    first = items.row(0, named=True)
    assert first["answers"] == ["answer 0"]
    assert first["page_text"] == f"Question 0 of {first['document_id'].split(':')[-1]}: answer 0"
    assert first["record_id"] == f"docvqa_item:({first['qa_id']})"
    assert first["parent_ids"] == [first["release_id"], first["qa_id"]] and first["models"] == [ENTRY]
    ranks = [split_rank(d.split(":")[-1]) for d in items["document_id"]]
    assert ranks == sorted(ranks)  # in split-hash order
    few, few_check = held_out_items(release, pages, limit=2)
    assert few.height == 2 and few_check.checked == 2  # checking stops once the limit is drawn


def test_the_same_pdf_in_two_shards_is_two_records_released_once():
    qa = pl.DataFrame(_qa("0000001", 2, [0, 0], "s1", content="same") + _qa("0000001", 2, [0, 0], "s2", content="same")
                      + _qa("0000002", 1, [0], "s2"))
    images = pl.DataFrame(_images("0000001", 1, shard="s1") + _images("0000001", 1, shard="s2")
                          + _images("0000002", 1, shard="s2"))
    release, withheld = release_rows(qa, images)
    assert withheld == {"page_not_rendered": 0, "duplicate_source": 1}
    assert release["document_id"].sort().to_list() == ["pdf:s1:0000001", "pdf:s2:0000002"]  # first landing kept
    assert release["record_id"].n_unique() == release.height == release["source_key"].n_unique()


def test_grounding_pairs_ask_both_ways_and_skip_repeated_text():
    page = page_from_lines([
        [("Invoice", [0.1, 0.1, 0.1, 0.02]), ("INV-2024-0007", [0.21, 0.1, 0.2, 0.02])],
        [("Total", [0.1, 0.2, 0.1, 0.02]), ("due", [0.21, 0.2, 0.05, 0.02])],
        [("Total", [0.1, 0.3, 0.1, 0.02]), ("due", [0.21, 0.3, 0.05, 0.02])],  # printed twice
        [("Harbourside", [0.1, 0.5, 0.2, 0.02])],
    ])
    pairs = grounding_pairs([page], "0000001")
    lines = {p.text for p in pairs if p.unit == "line"}
    assert lines == {"Invoice INV-2024-0007"}  # "Total due" is ambiguous; one-word lines are words
    assert {p.text for p in pairs if p.unit == "word"} == {"Harbourside"}  # INV-... is inside a chosen line
    where = next(p for p in pairs if p.kind == "grounding" and p.unit == "line")
    assert where.assistant == "[0.100, 0.100, 0.310, 0.020]" and '"Invoice INV-2024-0007"' in where.user
    what = next(p for p in pairs if p.kind == "referring" and p.unit == "line")
    assert what.assistant == "Invoice INV-2024-0007" and "[0.100, 0.100, 0.310, 0.020]" in what.user
    assert grounding_pairs([page], "0000001") == pairs


def test_card_states_the_numbers_it_is_built_from():
    from assets.docmatix.dataset_card import screen_params
    from assets.docmatix.qa_filters import QAFilterRules
    from assets.docmatix.reading import DocumentRules

    docs = [f"{i:07d}" for i in range(8)]
    release, _ = release_rows(pl.DataFrame(sum((_qa(d, 2, [0, 0]) for d in docs), [])),
                              pl.DataFrame(sum((_images(d, 1) for d in docs), [])))
    removal = pl.DataFrame({"rule": ["dotted_word"], "compat": [3], "default": [None]},
                           schema_overrides={"default": pl.Int64})
    forms = pl.DataFrame({"question_form": ["what"], "len": [16]})
    screens = screen_params({"documents": [{"max_pages": 6, "min_text_chars": 1}]})
    card = dataset_card(release, removal, forms, screens, ["per_section"])
    assert card.startswith("---\nlicense:") and "8 documents, 16 question/answer pairs" in card
    assert "| dotted_word | 3 |" in card and "Departures from Docmatix" in card
    n_test = int((release["split"] == "test").sum())
    assert f"| test | {n_test} | {n_test} | {2 * n_test} |" in card
    # the models table reads the release's `models`; the rules are those the screens ran with
    assert "| qa | offline | offline:m | docmatix_qa@1 | 8 |" in card
    assert "too_many_pages: keep if pages <= 6" in card and DocumentRules().describe() not in card
    assert QAFilterRules().describe() in card and "variants used: per_section" in card
    data = json.loads(json.dumps(card_data(release, removal, forms, screens)))  # the JSON card must serialise
    assert (data["documents"], data["qa_pairs"], data["images"]) == (8, 16, 8)
    assert {s["split"]: s["documents"] for s in data["splits"]}.get("test", 0) == n_test
    assert data["filter_removal"] == [{"rule": "dotted_word", "compat": 3, "default": None}]
    assert data["models"] == [{"role": "qa", "backend": "offline", "model": "offline:m",
                               "task_version": "docmatix_qa@1", "documents": 8}]
    assert [(s["max_pages"], s["min_text_chars"]) for s in data["screens"]["documents"]] == [(6, 1)]
    assert data["known_limitations"] and "## Known limitations" in card


@pytest.mark.parametrize("n", [1, 3])
def test_single_and_small_releases(n):
    docs = [f"{i:07d}" for i in range(n)]
    release, _ = release_rows(pl.DataFrame(sum((_qa(d, 1, [0]) for d in docs), [])),
                              pl.DataFrame(sum((_images(d, 1) for d in docs), [])))
    assert release.height == n and ("test" in set(release["split"])) == (n >= 2 or split_rank(docs[0]) < TEST_FRACTION)
