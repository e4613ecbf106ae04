import polars as pl

from assets.finevideo.taxonomy_review import candidate_leaves, confused_pairs, leaf_findings, low_confidence
from tests.fakes.word_vectors import encode

A, B, C = "Top > Mid > A", "Top > Mid > B", "Other > Mid > C"


def labels(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"record_id": pl.String, "title": pl.String, "category_path": pl.String,
                                      "confidence": pl.Float64, "margin": pl.Float64, "runner_up_path": pl.String},
                        orient="row")


LABELS = labels([
    ("r1", "t1", A, 0.3, 0.01, B),
    ("r2", "t2", A, 0.3, 0.02, B),
    ("r3", "t3", A, 0.4, 0.20, C),
    ("r4", "t4", B, 0.3, 0.01, A),
    ("r5", "t5", B, 0.5, 0.30, C),
    ("r6", "t6", B, 0.5, 0.25, C),
])


def test_leaves_whose_videos_are_mostly_low_margin_are_flagged_and_unused_leaves_listed():
    f = leaf_findings(LABELS, [A, B, C], low_margin=0.03)
    weak = f.filter(pl.col("kind") == "low_confidence_leaf")
    assert weak["leaf_path"].to_list() == [A] and weak["related_path"].to_list() == [B]
    assert weak["videos"].to_list() == [3] and "67%" in weak["suggestion"][0]
    assert f.filter(pl.col("kind") == "unused_leaf")["leaf_path"].to_list() == [C]


def test_confused_pairs_are_unordered_and_counted_over_low_margin_videos():
    pairs = confused_pairs(LABELS, low_margin=0.03)
    assert pairs.select("leaf_path", "related_path", "videos").rows() == [(A, B, 3)]
    assert sorted(pairs["record_ids"][0]) == ["r1", "r2", "r4"]


def test_low_margin_videos_on_one_unnamed_topic_become_a_candidate_leaf():
    rows = labels([
        ("k1", "Knitting socks with wool yarn", A, 0.2, 0.01, B),
        ("k2", "Wool yarn knitting for beginners", A, 0.2, 0.00, B),
        ("k3", "Chunky wool yarn knitting", B, 0.2, 0.02, A),
        ("d1", "Drone racing at night", C, 0.2, 0.01, A),
        ("x1", "A well labelled video", C, 0.6, 0.40, A),
    ])
    low = rows.filter(low_confidence(0.03))
    texts = low["title"].to_list()
    found = candidate_leaves(low, encode(texts), texts)
    assert found.height == 1
    row = found.row(0, named=True)
    assert row["kind"] == "candidate_leaf" and row["videos"] == 3 and sorted(row["record_ids"]) == ["k1", "k2", "k3"]
    assert row["leaf_path"].startswith("Top > ") and {"Knitting", "Wool", "Yarn"} & set(row["leaf_path"][6:].split())
    assert candidate_leaves(low.head(1), encode(texts[:1]), texts[:1]).height == 0
