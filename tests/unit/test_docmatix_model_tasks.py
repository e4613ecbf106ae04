"""The docmatix Tasks on a real (local) chat-completions server: Q/A generation, VLM answers, LAVE."""

from __future__ import annotations

import base64
import io
import json

import polars as pl
from PIL import Image

from assets.docmatix.answerers import VLMAnswerTask
from assets.docmatix.lave import LaveJudgeTask, parse_rating, rating_or_default
from assets.docmatix.pdfa import page_from_lines
from assets.docmatix.qa_prompts import NEW_PAGE
from assets.docmatix.qa_task import QAGenerationTask, raw_rows
from resources.llm import LLMResource
from tests.fakes.fault_server import FakeChatServer

LAYOUT = [page_from_lines([[("Total:", [0.1, 0.1, 0.1, 0.01]), ("12.50", [0.25, 0.1, 0.1, 0.01])]]),
          page_from_lines([[("Signed", [0.1, 0.1, 0.1, 0.01]), ("Ada", [0.25, 0.1, 0.1, 0.01])]])]


def remote(server: FakeChatServer, tmp_path) -> LLMResource:
    return LLMResource(backend="openai", model="fake", base_url=server.base_url, api_key="k",
                       cache_path=str(tmp_path / "llm.sqlite"), max_concurrency=1,
                       backoff_initial_s=0.01, backoff_max_s=0.02, timeout_s=5)


def test_generation_prompt_parse_and_reask(tmp_path):
    answers = iter([
        json.dumps({"text": "Sure, here are some questions about the document."}),
        json.dumps({"text": "Q1: What is the total?\nA1: 12.50\nQ2: Who signed?\nA2: Ada"}),
    ])
    with FakeChatServer(lambda messages: next(answers)) as server:
        items = [{"key": "0000007", "variant": 1, "layout": LAYOUT}]
        run = remote(server, tmp_path).run(QAGenerationTask(), items)
    first = server.requests[0]["messages"]
    assert any(m["role"] == "system" and "section by section" in m["content"] for m in first)
    assert any(m["content"] == f"Total: 12.50\n{NEW_PAGE}\nSigned Ada" for m in first if m["role"] == "user")
    assert "no Q/A pair found" in json.dumps(server.requests[1]["messages"])  # the parser's complaint
    docs = pl.DataFrame({"record_id": ["pdf:s1:0000007"], "doc_key": ["0000007"], "shard": ["s1"]})
    rows = raw_rows(docs, [1], run)
    assert rows.select("record_id", "question", "answer").rows() == [
        ("qa:(pdf:s1:0000007):0", "What is the total?", "12.50"), ("qa:(pdf:s1:0000007):1", "Who signed?", "Ada")]
    entries = [e for models in rows["models"] for e in models]
    assert {(e["role"], e["backend"], e["model"]) for e in entries} == {("qa", "openai", "fake")}
    assert all(e["prompt_sha"] for e in entries) and set(rows["variant"]) == {"per_section"}
    assert rows["parent_ids"].to_list() == [["pdf:s1:0000007"]] * 2


def test_a_document_whose_generation_fails_is_one_error_row(tmp_path):
    with FakeChatServer(lambda m: json.dumps({"text": "no pairs"}), default="500") as server:
        llm = remote(server, tmp_path).model_copy(update={"max_attempts": 2})
        run = llm.run(QAGenerationTask(), [{"key": "0000008", "variant": 0, "layout": LAYOUT}])
    rows = raw_rows(pl.DataFrame({"record_id": ["pdf:s1:0000008"], "shard": ["s1"]}), [0], run)
    assert rows.select("record_id", "question").rows() == [("qa:(pdf:s1:0000008):failed", None)]
    assert "InternalServerError" in rows["error"][0]
    assert rows["models"][0][0]["backend"] == "openai"  # a failed call is still declared


def test_vlm_adapter_sends_the_page_image_as_a_data_uri(tmp_path):
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(png, format="PNG")
    (tmp_path / "page.png").write_bytes(png.getvalue())
    with FakeChatServer(lambda m: json.dumps({"answer": "12.50"})) as server:
        item = {"question": "What is the total?", "image_path": str(tmp_path / "page.png"), "page_text": "x"}
        run = remote(server, tmp_path).run(VLMAnswerTask(), [item])
    assert run.results[0].value.answer == "12.50"
    user = next(m for m in server.requests[0]["messages"] if m["role"] == "user")
    parts = {p["type"]: p for p in user["content"]}
    url = parts["image_url"]["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == png.getvalue()
    assert parts["text"]["text"] == "What is the total?"


def test_lave_judge_model_replies_are_parsed_with_the_default_for_unparseable(tmp_path):
    replies = iter([json.dumps({"reply": "Same amount as the reference. So rating=3"}),
                    json.dumps({"reply": "It is probably fine."})])
    with FakeChatServer(lambda m: next(replies)) as server:
        items = [{"question": "Total?", "references": ["12.50"], "candidate": "12.50"},
                 {"question": "Who?", "references": ["Ada"], "candidate": "Ada L."}]
        run = remote(server, tmp_path).run(LaveJudgeTask(), items)
    assert [parse_rating(r.value.reply) for r in run.results] == [3, None]
    assert [rating_or_default(r.value.reply) for r in run.results] == [3, 2]
    user = [m["content"] for m in server.requests[0]["messages"] if m["role"] == "user"]
    assert user[-1].count("So rating=") == 8 and user[-1].endswith("Candidate answer: '12.50'\nOutput:")
