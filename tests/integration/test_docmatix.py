"""The docmatix group materialized from its definitions: on the tiny sample corpus (against the
manifest's stated outcomes), on webdataset tars, and with a model endpoint writing messy Q/A; every
row it writes honours the provenance contract and every parent it names exists."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import tarfile
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from assets.docmatix.definitions import ASSETS, CHECKS
from assets.docmatix.evaluation import judge_of
from corpus import documents as corpus_docs
from corpus.build import build_corpus
from resources.deployment import build_resources
from resources.llm import LLMResource
from resources.settings import load_settings
from resources.warehouse import query
from scripts.materialize import materialize_graph
from scripts.shards import register_landed_shards
from tests.fakes.deployment import local_deployment
from tests.fakes.fault_server import FakeChatServer


def build_definitions() -> dg.Definitions:
    """The group as the code location loads it (its explicit ASSETS/CHECKS and the resources)."""
    return dg.Definitions(assets=ASSETS, asset_checks=CHECKS, resources=build_resources())


def group_keys(defs: dg.Definitions, names: set[str] | None = None) -> list[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return [k for k in graph.materializable_asset_keys if graph.get(k).group_name == "docmatix"
            and (names is None or k.path[-1] in names)]


def env(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    local_deployment(monkeypatch, root / "data", root / "landing")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The whole group materialized on the tiny corpus; yields (manifest, warehouse path, media root)."""
    root = tmp_path_factory.mktemp("docmatix")
    with pytest.MonkeyPatch.context() as mp:
        env(mp, root)
        manifest = build_corpus(root / "landing", seed=0, size="tiny")
        shutil.rmtree(root / "landing" / "youtube_commons")  # this group reads documents only
        defs = build_definitions()
        with dg.instance_for_test() as instance:
            register_landed_shards(defs, instance)
            run = materialize_graph(defs, instance, selection=group_keys(defs))
            assert run.success, [r.error for r in run.runs if not r.success]
            card_meta = instance.fetch_materializations(dg.AssetKey("docmatix_dataset_card"), limit=1)
        yield manifest, load_settings().warehouse_path, card_meta.records[0].asset_materialization.metadata


def table(tiny, sql: str) -> pl.DataFrame:
    return query(tiny[1], sql)


@pytest.mark.slow
def test_documents_follow_the_manifest(tiny):
    manifest = tiny[0]
    expected = {i["id"]: i["expected"] for i in manifest["items"] if i["kind"] == "document"}
    shards = {i["id"]: i["shard"] for i in manifest["items"] if i["kind"] == "document"}
    docs = table(tiny, "SELECT record_id, doc_key, kept, reason, reasons, text_source, pages FROM documents")
    assert docs.height == len(expected)  # every PDF is a row
    for r in docs.iter_rows(named=True):
        want = expected[r["doc_key"]]
        assert r["record_id"] == f"pdf:{shards[r['doc_key']]}:{r['doc_key']}"
        # the deciding reason is the manifest's first; a PDF that never opened also fails the rules
        # whose measurements it cannot have (null pages, null text)
        assert (r["kept"], r["reason"]) == (want["kept"], (want["reasons"] or [None])[0]), r
        assert set(want["reasons"]) <= set(r["reasons"]), r
    sidecars = {i["id"]: i["sidecar"] is not None for i in manifest["items"] if i["kind"] == "document"}
    for r in docs.filter(pl.col("kept")).iter_rows(named=True):
        assert r["text_source"] == ("pdfa_json" if sidecars[r["doc_key"]] else "pdf_text_layer")


@pytest.mark.slow
def test_every_pdf_page_and_pair_is_accounted_for(tiny):
    kept_docs = table(tiny, "SELECT record_id, pages FROM documents WHERE kept")
    raw = table(tiny, "SELECT record_id, document_id FROM raw_qa")
    filtered = table(tiny, "SELECT record_id, kept, reason FROM filtered_qa")
    assert set(raw["document_id"]) == set(kept_docs["record_id"])  # every kept PDF was asked
    assert sorted(raw["record_id"]) == sorted(filtered["record_id"])  # every pair judged once
    assert filtered.filter(~pl.col("kept") & pl.col("reason").is_null()).height == 0
    images = table(tiny, "SELECT document_id, page, kept FROM page_images")
    assert images.height == kept_docs["pages"].sum() and images["kept"].all()
    pairs_per_page = raw.height / kept_docs["pages"].sum()
    assert 3 <= pairs_per_page <= 5


# printed key (as the question phrases it) -> the manifest fact it names: the English invoice, the
# scanned delivery note, the Korean invoice (거래명세서) and the scanned Korean notice
KEYS = {"invoice number": "invoice_number", "invoice date": "invoice_date", "bill to": "customer",
        "subtotal": "subtotal", "vat (20%)": "vat", "total due (gbp)": "total_due",
        "reference": "reference", "delivered to": "delivered_to", "items": "items", "received by": "received_by",
        "명세서 번호": "invoice_number", "발행일": "invoice_date", "결제 기한": "due_date", "받는 곳": "customer",
        "공급가액": "subtotal", "부가세 (10%)": "vat", "합계 금액": "total_due", "일시": "when", "장소": "place"}
KOREAN_ITEM_COLUMNS = ("품목", "수량", "단가", "금액")  # corpus.documents.korean_invoice's table header
KO_PARTICLE = r"(?:은|는|을|를|은\(는\)|을\(를\))"
KEY = "|".join(re.escape(k) for k in sorted(KEYS, key=len, reverse=True))


def _same(answer: str, fact: str, item: dict) -> bool:
    """The answer is the fact; on a page read by OCR, up to spacing (Tesseract spaces Korean
    unreliably: "오후 1 시 부터" for "오후 1시부터"), never up to a character."""
    if not item["has_text_layer"]:
        return re.sub(r"\s", "", answer) == re.sub(r"\s", "", fact)
    return answer == fact


def _facts_check(question: str, answer: str, item: dict) -> bool | None:
    """Whether an answer agrees with the manifest's facts; None when the question is not about one."""
    facts = item["facts"]
    if (m := re.fullmatch(r"In the table, what is the (Q\d|Total) value for (\w+)\?", question)) and "table" in facts:
        col, row = m.groups()
        return answer == f"{facts['totals'][row] if col == 'Total' else facts['table'][row][col]:,}"
    if (m := re.fullmatch(r"표(?:에서|에 적힌) (.+)의 (\S+?)(?: 값은|은|는) 무엇입니까\?", question)) and "items" in facts:
        row, col = m.groups()  # a cell of the Korean item table: its row as printed, its column by header
        printed = [r for r in facts["items"] if r[0] == row]
        return len(printed) == 1 and col in KOREAN_ITEM_COLUMNS and answer == printed[0][KOREAN_ITEM_COLUMNS.index(col)]
    if question in ("What is the title of this document?", "What is this document called?",
                    "이 문서의 제목은 무엇입니까?", "이 문서는 무엇이라고 불립니까?") and "title" in facts:
        return _same(answer, facts["title"], item)
    if m := re.fullmatch(r'Fill in the blank from the document: "The (\w+) region sold the most, with ___ units.*',
                         question):
        return m[1] == facts["best_region"] and answer == f"{facts['totals'][m[1]]:,}"
    if question.startswith('Fill in the blank from the document: "Total sales in ___ reached'):
        return answer == str(facts["year"])
    if question in ("What is this document about?", "What is this document about, in one sentence?",
                    "이 문서는 무엇에 관한 것입니까?", "이 문서의 내용을 한 문장으로 말하면 무엇입니까?"):
        if "invoice_number" in facts:
            return facts["invoice_number"] in answer and facts["invoice_date"] in answer
        if "company" in facts:
            return facts["company"] in answer and str(facts["year"]) in answer
        if "title" in facts:  # a scan's: its title, then its first key-value lines ("k: v; k: v.")
            title, _, rest = answer.partition(". ")
            lines = [part.split(": ", 1) for part in rest.rstrip(".").split("; ") if ": " in part]
            return _same(title, facts["title"], item) and bool(lines) and all(
                _same(v, facts[KEYS[k.lower()]], item) for k, v in lines if KEYS.get(k.lower()) in facts)
    key = (re.fullmatch(rf"(?:What is|Could you tell me) the ({KEY})\?", question, re.I)
           or re.fullmatch(rf"문서에 적힌 ({KEY}){KO_PARTICLE} (?:무엇입니까|알려 주시겠습니까)\?", question))
    if key and KEYS[key[1].lower()] in facts:
        return _same(answer, facts[KEYS[key[1].lower()]], item)
    yes_no = (re.fullmatch(rf"Is the ({KEY}) (.+)\?", question, re.I)
              or re.fullmatch(rf"문서에 적힌 ({KEY}){KO_PARTICLE} (.+)입니까\?", question))
    if yes_no and KEYS[yes_no[1].lower()] in facts:
        holds = _same(yes_no[2], facts[KEYS[yes_no[1].lower()]], item)
        korean = bool(re.search("[가-힣]", question))
        return answer == {True: ("Yes", "예"), False: ("No", "아니요")}[holds][korean]
    return None


@pytest.mark.slow
def test_kept_answers_are_the_documents_facts(tiny):
    items = {i["id"]: i for i in tiny[0]["items"] if i["kind"] == "document"}
    qa = table(tiny, "SELECT doc_key, question, answer, question_form, grounding FROM filtered_qa WHERE kept")
    checked = [_facts_check(r["question"], r["answer"], items[r["doc_key"]]) for r in qa.iter_rows(named=True)]
    assert all(c for c in checked if c is not None) and sum(c is not None for c in checked) >= 0.6 * len(checked)
    # every document with kept pairs is checked, the Korean and the OCR'd ones included
    assert {d for d, c in zip(qa["doc_key"], checked, strict=True) if c is not None} == set(qa["doc_key"])
    assert {items[d]["case"] for d in qa["doc_key"]} >= {"korean_invoice", "korean_scanned", "no_text_layer"}
    assert qa["grounding"].min() >= 0.8
    assert qa["question_form"].n_unique() >= 3  # a mix of question types


@pytest.mark.slow
def test_release_split_and_images(tiny):
    release = table(tiny, "SELECT * FROM docmatix_dataset")
    kept_qa = table(tiny, "SELECT document_id, count(*) AS n FROM filtered_qa WHERE kept GROUP BY 1")
    assert sorted(release["document_id"]) == sorted(kept_qa["document_id"])
    assert release["record_id"].to_list() == [f"docmatix:({d})" for d in release["document_id"]]
    assert set(release["split"]) == {"train", "test"}
    for r in release.iter_rows(named=True):
        assert len(r["texts"]) == kept_qa.filter(pl.col("document_id") == r["document_id"])["n"][0]
        assert {t["source"] for t in r["texts"]} == {r["doc_key"]}
        assert r["parent_ids"] == [r["document_id"], *r["qa_ids"], *r["page_ids"]]
        assert {e["role"] for e in r["models"]} == {"qa"}
        for uri, sha in zip(r["images"], r["image_sha256"], strict=True):
            path = Path(uri.removeprefix("file://"))
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
    with Image.open(Path(release["images"][0][0].removeprefix("file://"))) as im:
        assert im.format == "PNG" and max(im.size) <= 2940 and abs(im.width - 595.28 * 150 / 72) < 1
    split = table(tiny, "SELECT record_id, document_id, release_id, question, answers FROM docvqa_test_split")
    test_docs = set(release.filter(pl.col("split") == "test")["document_id"])
    assert split.height > 0 and set(split["document_id"]) <= test_docs
    # Korean is evaluated too: a Korean document is held out (by hash, or as its language's lowest hash)
    korean = [q for q in split["question"] if re.search("[가-힣]", q)]
    assert korean and len(korean) < split.height
    card = tiny[2]["card"].value
    assert "Departures from Docmatix" in card and "language: [en, ko]" in card
    assert "| qa | offline | offline:page-layout-extraction | docmatix_qa@1 |" in card  # read from `models`
    assert "too_many_pages: keep if pages <= 4" in card  # the rule parameters the screens recorded


@pytest.mark.slow
def test_evaluation_table_with_the_rubric_proxy(tiny):
    ev = table(tiny, "SELECT * FROM docvqa_evaluation")
    assert ev["adapter"].to_list() == ["extractive_baseline"]
    row = ev.row(0, named=True)
    for metric in ("anls", "exact_match", "bleu", "lave_proxy"):
        assert 0.0 <= row[metric] <= 1.0, metric
    assert row["cider_d"] >= 0 and row["lave"] is None
    assert judge_of(row) == "offline:rubric-proxy(all-MiniLM-L6-v2)"
    assert [e["role"] for e in row["models"]] == ["answer", "judge"]
    judged = table(tiny, "SELECT metric, rating, rationale FROM docvqa_judgments")
    assert set(judged["metric"]) == {"lave_proxy"} and judged["rating"].is_in([1, 2, 3]).all()


@pytest.mark.slow
def test_every_row_declares_its_parents_and_models_and_every_parent_exists(tiny):
    tables = [k.path[-1] for a in ASSETS for k in a.keys]
    ids: set[str] = set()
    rows = {}
    for name in tables:
        df = table(tiny, f"SELECT record_id, parent_ids, models FROM {name}")
        assert df["record_id"].null_count() == 0, name
        if name not in ("filtered_qa", "qa_duplicates", "document_duplicates"):  # screens re-judge records
            assert not ids & set(df["record_id"]), name
        ids |= set(df["record_id"])
        rows[name] = df
    for name, df in rows.items():
        missing = {p for ps in df["parent_ids"].to_list() for p in ps} - ids
        assert not missing, (name, sorted(missing)[:3])
    def parents(name: str) -> list[list[str]]:
        return rows[name]["parent_ids"].to_list()

    assert all(len(p) == 1 and p[0].startswith("pdf:") for p in parents("raw_qa"))
    for screen in ("filtered_qa", "qa_duplicates", "document_duplicates"):
        assert all(p == [] for p in parents(screen))  # the same record, judged
    assert all(m and m[0]["role"] == "qa" for m in rows["filtered_qa"]["models"].to_list())
    assert all(p[0].startswith("docmatix:") for p in parents("docvqa_test_split"))
    assert all(p[0].startswith("docvqa_item:") for p in parents("docvqa_predictions"))


@pytest.mark.slow
def test_grounding_pairs_and_dialogues(tiny):
    g = table(tiny, "SELECT kind, text, bbox, user, assistant FROM grounding_pairs")
    assert set(g["kind"]) == {"grounding", "referring"}
    for r in g.iter_rows(named=True):
        x, y, w, h = r["bbox"]
        assert min(x, y) >= 0 and x + w <= 1 and y + h <= 1 and min(w, h) > 0
        if r["kind"] == "grounding":
            assert json.loads(r["assistant"]) == pytest.approx(r["bbox"], abs=5e-4)
        else:
            assert r["assistant"] == r["text"]
    turns = table(tiny, "SELECT sum(n_turns) AS t FROM page_dialogues")["t"][0]
    assert turns == table(tiny, "SELECT count(*) AS n FROM filtered_qa WHERE kept")["n"][0]


# ---- webdataset tars ---------------------------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_pdfa_webdataset_tars_are_read(tmp_path, monkeypatch):
    env(monkeypatch, tmp_path)
    work, shard = tmp_path / "work", tmp_path / "landing" / "pdfa" / "wds-000"
    work.mkdir()
    shard.mkdir(parents=True)
    corpus_docs.invoice(random.Random(1), work / "a.pdf", work / "a.json")
    corpus_docs.report(random.Random(2), work / "b.pdf", None)
    with tarfile.open(shard / "pdfa-eng-wds-000.tar", "w") as tar:
        _add(tar, "0000101.pdf", (work / "a.pdf").read_bytes())
        _add(tar, "0000101.json", (work / "a.json").read_bytes())
        _add(tar, "0000102.pdf", (work / "b.pdf").read_bytes())
        _add(tar, "0000103.json", b"{}")  # a sample without its PDF
    (shard / "0000104.pdf").write_bytes((work / "b.pdf").read_bytes())
    (shard / "notes.txt").write_text("not a document")
    defs = build_definitions()
    with dg.instance_for_test() as instance:
        register_landed_shards(defs, instance)
        run = materialize_graph(defs, instance, selection=group_keys(defs, {"documents"}))
        assert run.success, run.runs[0].error
        meta = instance.fetch_materializations(dg.AssetKey("documents"), limit=1).records[0]
        stray = meta.asset_materialization.metadata["files_not_documents"].value
    docs = query(load_settings().warehouse_path, "SELECT record_id, source_uri, text_source, kept FROM documents "
                                                 "ORDER BY record_id")
    assert docs["record_id"].to_list() == ["pdf:wds-000:0000101", "pdf:wds-000:0000102", "pdf:wds-000:0000104"]
    assert docs["text_source"].to_list() == ["pdfa_json", "pdf_text_layer", "pdf_text_layer"]
    assert docs["source_uri"][0].endswith("pdfa-eng-wds-000.tar#0000101.pdf") and docs["kept"].all()
    assert "notes.txt" in stray and any(s.endswith("#0000103.json") for s in stray)


# ---- a model endpoint writing messy Q/A ----------------------------------------------------------------

MESSY = ("Q1: What is the total due?\nA1: 1,234.50\n"
         "Q2: Where can the invoice be paid?\nA2: https://pay.example.com/inv-7\n"
         "Q3: Who signed the invoice?\nA3: John Smith\n"
         "Q4: What is the delivery date?\nA4: unanswerable\n"
         "Q5: What is the total due?\nA5: 1,234.50\n"
         "Q6: What is the {field}?\nA6: INV-7\n")


def test_llm_generated_pairs_are_judged_by_both_profiles(tmp_path, monkeypatch):
    env(monkeypatch, tmp_path)
    shard = tmp_path / "landing" / "pdfa" / "s1"
    shard.mkdir(parents=True)
    c = canvas.Canvas(str(shard / "0000201.pdf"), pagesize=(595, 842))
    for i, text in enumerate(("Invoice INV-7", "Total due: 1,234.50", "Pay at https://pay.example.com/inv-7")):
        c.drawString(60, 780 - 20 * i, text)
    c.showPage()
    c.save()
    defs = build_definitions()
    selection = group_keys(defs, {"documents", "raw_qa", "filtered_qa"})
    with FakeChatServer(lambda m: json.dumps({"text": MESSY})) as server:
        resources = {**build_resources(), "llm": LLMResource(
            backend="openai", model="fake-llm", base_url=server.base_url, api_key="k", max_concurrency=1,
            cache_path=str(tmp_path / "llm.sqlite"))}
        assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and set(a.keys) & set(selection)]
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("document_shards", ["s1"])
            res = dg.materialize(assets, resources=resources, partition_key="s1", instance=instance)
            assert res.success
    qa = query(load_settings().warehouse_path,
               "SELECT record_id, compat_kept, compat_reasons, kept, reason, models FROM filtered_qa "
               "ORDER BY pair_index")
    assert qa["compat_kept"].to_list() == [False, False, True, False, False, False]
    assert qa["kept"].to_list() == [True, True, False, False, False, False]
    assert qa["reason"].to_list() == [None, None, "ungrounded_answer", "unanswerable", "duplicate_question",
                                      "template_brackets"]
    assert [list(r) for r in qa["compat_reasons"]][:2] == [["dotted_word"], ["dotted_word"]]
    assert {(e["role"], e["backend"], e["model"]) for m in qa["models"] for e in m} == {("qa", "openai", "fake-llm")}


# ---- a VLM adapter and a judge model -------------------------------------------------------------------


def test_vlm_adapter_and_judge_model_fill_the_lave_column(tmp_path):
    from assets.docmatix.evaluation_assets import docvqa_evaluation
    from assets.docmatix.judgment_assets import docvqa_judgments
    from assets.docmatix.prediction_assets import docvqa_predictions
    from resources.embeddings import EmbeddingResource
    from resources.storage import MediaStore

    media = MediaStore(root=str(tmp_path / "media"))
    png = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(png, format="PNG")
    ref = media.put_bytes(png.getvalue(), ".png")
    split = pl.DataFrame({
        "record_id": ["docvqa_item:q1", "docvqa_item:q2"], "document_id": ["d1", "d1"], "page": [0, 0],
        "question": ["What is the invoice number?", "Who signed it?"], "answers": [["INV-1"], ["Ada Lovelace"]],
        "image_uri": [ref.uri] * 2, "image_sha256": [ref.sha256] * 2,
        "page_text": ["Invoice number: INV-1\nSigned by Ada Lovelace"] * 2,
    })

    def vlm_answers(messages):
        question = next(p["text"] for m in messages if m["role"] == "user" for p in m["content"] if p["type"] == "text")
        return json.dumps({"answer": "INV-1" if "number" in question else "Ada Lovelace"})

    def judge_says(messages):
        candidate = messages[-1]["content"].rsplit("Candidate answer: '", 1)[1]  # LAVE quotes the candidate
        return json.dumps({"reply": "Matches the reference. So rating=3" if candidate.startswith(("INV-1", "Ada"))
                           else "A different answer. So rating=1"})

    def model(server, name):
        return LLMResource(backend="openai", model=name, base_url=server.base_url, api_key="k",
                           cache_path=str(tmp_path / f"{name}.sqlite"), max_concurrency=1)

    def output(gen):
        return next(o.value for o in list(gen) if isinstance(o, dg.Output))

    with FakeChatServer(vlm_answers) as vlm_server, FakeChatServer(judge_says) as judge_server:
        preds = output(docvqa_predictions(dg.build_asset_context(), docvqa_test_split=split,
                                          vlm=model(vlm_server, "vlm-x"), media=media))
        judged = output(docvqa_judgments(dg.build_asset_context(), docvqa_predictions=preds,
                                         judge=model(judge_server, "judge-y"), embeddings=EmbeddingResource()))
    assert preds["adapter"].to_list() == ["extractive_baseline"] * 2 + ["vlm:vlm-x"] * 2
    assert set(judged["metric"]) == {"lave"} and judged["parsed"].all()
    assert [[(e["role"], e["backend"], e["model"]) for e in m] for m in preds["models"]] == \
        [[("answer", "offline", "extractive_baseline")]] * 2 + [[("answer", "openai", "vlm-x")]] * 2
    assert preds["parent_ids"].to_list() == [["docvqa_item:q1"], ["docvqa_item:q2"]] * 2
    assert judged["parent_ids"].to_list() == [[p] for p in preds["record_id"]]
    table = {r["adapter"]: r for r in output(docvqa_evaluation(preds, judged)).iter_rows(named=True)}
    vlm = table["vlm:vlm-x"]
    assert (vlm["anls"], vlm["exact_match"], vlm["lave"], vlm["lave_proxy"]) == (1.0, 1.0, 1.0, None)
    assert judge_of(vlm) == "openai:judge-y" and table["extractive_baseline"]["lave"] is not None
