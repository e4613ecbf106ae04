"""The asset kit's pure parts: record identity, the provenance contract, declarative rules and
source fingerprints."""

from __future__ import annotations

import itertools
import random

import polars as pl
import pytest

from assets.kit import fingerprint
from assets.kit.identity import parse_record_id, record_id, record_id_expr, source_key
from assets.kit.provenance import CONTRACT, contract_problems, declare, model_entry, models_series
from assets.kit.screening import NOT_EVALUATED, Rule, RuleSet, evaluate, screen

# -- identity ---------------------------------------------------------------------------------------


def test_record_ids_are_injective_even_for_parts_holding_the_separator():
    alphabet = [":", "%", "3A", "(", ")", "a", "x:", ""]
    parts = sorted({"".join(p) for n in range(3) for p in itertools.product(alphabet, repeat=n)})
    seen: dict[str, tuple] = {}
    for a, b in itertools.product(parts, repeat=2):
        rid = record_id("video", a, b)
        assert seen.setdefault(rid, (a, b)) == (a, b), f"{(a, b)} and {seen[rid]} share {rid}"
        assert parse_record_id(rid) == ("video", (a, b))
    assert len(seen) == len(parts) ** 2


def test_the_column_form_mints_the_same_ids_and_nulls_never_merge():
    rng = random.Random(0)
    shards = [rng.choice(["s1", "s:2", "s%3", "(s)"]) for _ in range(200)]
    keys = [rng.choice(["abc", "a:b", None, "%3A", "yt:s1:v:0", "scene:(yt:s1:v:0):3", "yt:(x"]) for _ in range(200)]
    df = pl.DataFrame({"shard": shards, "key": keys})
    ids = df.select(record_id_expr("yt", "shard", "key").alias("id"))["id"].to_list()
    assert ids == [None if k is None else record_id("yt", s, k) for s, k in zip(shards, keys, strict=True)]


def test_the_same_source_in_two_shards_is_two_records_with_one_source_key():
    assert record_id("yt", "shard-1", "HiZ4oFDzN3C", 0) != record_id("yt", "shard-2", "HiZ4oFDzN3C", 0)
    assert source_key("yt", "HiZ4oFDzN3C") == "yt:HiZ4oFDzN3C"


@pytest.mark.parametrize("bad", ["Video", "1x", "a:b", ""])
def test_namespaces_are_plain_names(bad):
    with pytest.raises(ValueError):
        record_id(bad, "x")


def test_nested_ids_parse_back_to_their_parent_and_stay_readable():
    video = record_id("yt", "S:1", "abc", 3)  # "S:1" is no id (namespaces are lower case): escaped
    scene = record_id("scene", video, 2)
    question = record_id("question", scene, "t", 0)
    assert question == "question:(scene:(yt:S%3A1:abc:3):2):t:0"
    ns, (parent, index) = parse_record_id(scene)
    assert (ns, parent, index) == ("scene", video, "2")
    assert parse_record_id(parse_record_id(question)[1][0])[1][0] == video


# -- provenance contract ----------------------------------------------------------------------------


def test_declare_merges_scalar_and_list_parents_and_drops_nulls_and_repeats():
    df = pl.DataFrame({"doc": ["d1", None], "qas": [["q1", "d1"], ["q2"]]})
    models = models_series([[model_entry("qa", "offline", "rules")], []])
    out = declare(df, parents=["doc", "qas"], models=[models])
    assert out["parent_ids"].to_list() == [["d1", "q1"], ["q2"]]
    assert [len(m) for m in out["models"].to_list()] == [1, 0]
    assert contract_problems(out.with_columns(record_id=pl.lit("x"))) == []
    assert out.select(list(CONTRACT)[1:]).schema == pl.Schema(dict(list(CONTRACT.items())[1:]))


def test_a_frame_without_the_contract_is_reported():
    problems = contract_problems(pl.DataFrame({"record_id": ["a"], "backend": ["offline"]}))
    assert any(p.startswith("parent_ids") for p in problems) and any(p.startswith("models") for p in problems)


# -- rules ------------------------------------------------------------------------------------------


class Words(RuleSet):
    min_words: int = 5
    languages: tuple[str, ...] = ("en",)

    def rules(self):
        return [Rule(reason="failed", column="error", op="is_null"),
                Rule(reason="few_words", column="words", op="gt", threshold=self.min_words),
                Rule(reason="language", column="lang", op="in", threshold=self.languages)]


ROWS = pl.DataFrame({"error": [None, "boom", None, None, None], "words": [10, 10, 3, None, 10],
                     "lang": ["en", "en", "en", "en", "fr"]})


def test_python_and_polars_forms_of_a_rule_agree():
    screened = screen(ROWS, Words().rules())
    for row, reason in zip(ROWS.to_dicts(), screened["reason"], strict=True):
        verdicts = evaluate(row, Words().rules())
        failed = [r for r, v, _ in verdicts if v == "FAIL"]
        assert failed == ([reason] if reason else [])


def test_evaluation_stops_at_the_deciding_rule():
    verdicts = evaluate(ROWS.to_dicts()[1], Words().rules())
    assert [v for _, v, _ in verdicts] == ["FAIL", NOT_EVALUATED, NOT_EVALUATED]
    assert verdicts[0][2] == "boom (keep if error is null)"
    # a null measurement fails; it is never waved through
    assert [v for _, v, _ in evaluate(ROWS.to_dicts()[3], Words().rules())][:2] == ["pass", "FAIL"]


def test_parameters_change_verdicts_and_descriptions():
    assert screen(ROWS, Words(min_words=2).rules())["kept"].to_list() == [True, False, True, False, False]
    assert "words > 5" in Words().describe() and "words > 2" in Words(min_words=2).describe()
    assert Words().params_json() != Words(min_words=2).params_json()


# -- fingerprints -----------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A throwaway project tree: assets/a.py imports assets/b.py lazily and assets/ui.py, which is
    exempt."""
    pkg = tmp_path / "assets"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import assets.ui\n\ndef f():\n    from assets.b import g\n    return g()\n")
    (pkg / "b.py").write_text("def g():\n    return 1\n")
    (pkg / "ui.py").write_text('FINGERPRINT_EXEMPT = "pictures only"\nCOLOR = "red"\n')
    monkeypatch.setattr(fingerprint, "ROOT", tmp_path)
    fingerprint._project_file.cache_clear()
    yield pkg
    fingerprint._project_file.cache_clear()


def test_a_lazily_imported_module_is_part_of_the_fingerprint(project):
    assert list(fingerprint.module_closure(["assets.a"])) == ["assets.a", "assets.b"]
    before = fingerprint.source_fingerprint(["assets.a"])
    (project / "b.py").write_text("def g():\n    return 2\n")
    assert fingerprint.source_fingerprint(["assets.a"]) != before


def test_an_exempt_module_is_not(project):
    before = fingerprint.source_fingerprint(["assets.a"])
    (project / "ui.py").write_text('FINGERPRINT_EXEMPT = "pictures only"\nCOLOR = "blue"\n')
    assert fingerprint.source_fingerprint(["assets.a"]) == before
