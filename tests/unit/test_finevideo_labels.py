"""The taxonomy label Task: what it accepts, its prompt, the offline labeller, and a real HTTP model
that answers outside the taxonomy (tests/fakes/fault_server.py)."""

import json

import numpy as np
import pytest
from pydantic import ValidationError

from assets.finevideo.labelling import TRANSCRIPT_CHARS, TaxonomyLabel, TaxonomyLabelTask, confidence
from resources.llm import LLMResource
from tests.fakes.fault_server import FakeChatServer
from tests.fakes.word_vectors import encode

LEAVES = ["Lifestyle > Food & Cooking > Recipe Videos", "Education > Tutorials > Software Tutorials",
          "Entertainment > Movies & Trailers > Short Films", "Art & Creativity > Photography & Film > Short Films",
          "Automotive > Car Reviews"]
ITEM = {"title": "Easy sourdough bread recipe", "channel": "Hearth", "text": "bake bread flour recipe " * 2000,
        "tags": ["never", "sent"]}


def check(answer: str) -> str:
    return TaxonomyLabel.model_validate({"category": answer}, context={"leaf_paths": LEAVES}).category


def test_only_a_leaf_path_is_admitted_and_a_unique_leaf_name_becomes_its_path():
    assert check("Automotive > Car Reviews") == "Automotive > Car Reviews"
    assert check(' "Automotive>Car Reviews" ') == "Automotive > Car Reviews"
    assert check("recipe videos") == "Lifestyle > Food & Cooking > Recipe Videos"
    with pytest.raises(ValidationError, match="names several categories"):
        check("Short Films")
    with pytest.raises(ValidationError, match="is not one of the categories"):
        check("Cooking")
    with pytest.raises(ValidationError, match="is not one of the categories"):
        check("Automotive")  # a parent is not a leaf


def test_the_prompt_follows_finevideo_without_tags_and_cuts_the_transcript():
    prompt = TaxonomyLabelTask(LEAVES, encode).messages(ITEM)[0]["content"]
    assert prompt.startswith("Given those categories:")
    assert "RETURN ONLY the selected category" in prompt
    assert "- Art & Creativity > Photography & Film > Short Films" in prompt
    assert "Title: Easy sourdough bread recipe\nChannel: Hearth\nClosed Caption: " in prompt
    assert "never" not in prompt and "Tags" not in prompt
    caption = prompt.split("Closed Caption: ", 1)[1]
    assert len(caption) == TRANSCRIPT_CHARS


def test_offline_label_is_the_most_similar_leaf_and_confidence_is_its_lead():
    task = TaxonomyLabelTask(LEAVES, encode)
    items = [{"title": "sourdough recipe", "text": "recipe videos food cooking bread"},
             {"title": "new car", "text": "car reviews automotive test drive"}]
    run = LLMResource().run(task, items)
    labels = [r.value.category for r in run.results]
    assert labels == ["Lifestyle > Food & Cooking > Recipe Videos", "Automotive > Car Reviews"]
    assert {r.backend for r in run.results} == {"offline"}
    sims = task.similarities(items)
    conf, margin, runner = confidence(sims, LEAVES, labels)[0]
    order = np.sort(sims[0])
    assert conf == pytest.approx(order[-1], abs=1e-4) and margin == pytest.approx(order[-1] - order[-2], abs=1e-4)
    assert runner in LEAVES and runner != labels[0]
    # another labeller's choice is measured the same way; the embeddings may disagree
    _, other_margin, other_runner = confidence(sims, LEAVES, ["Automotive > Car Reviews", None])[0]
    assert other_margin < 0 and other_runner == labels[0]
    assert confidence(sims, LEAVES, ["Automotive > Car Reviews", None])[1] == (None, None, None)


def test_the_offline_model_recorded_is_the_encoder_the_task_was_given():
    items = [{"title": "sourdough recipe", "text": "recipe videos food cooking bread"}]
    named = TaxonomyLabelTask(LEAVES, encode, encoder="/models/e5-small")
    assert named.offline_model_used() == "/models/e5-small:leaf-similarity"
    assert "MiniLM" not in named.offline_model_used()
    run = LLMResource().run(named, items)
    (entry,) = run.model_entries("label")[0]
    assert (entry["role"], entry["backend"], entry["model"]) == ("label", "offline", "offline:/models/e5-small:leaf-similarity")
    # another encoder is another offline model: another answer identity, so no cached answer is shared
    other = TaxonomyLabelTask(LEAVES, encode, encoder="all-MiniLM-L6-v2")
    assert other.offline_model_used() == "all-MiniLM-L6-v2:leaf-similarity"
    assert other.identity("offline", "") != named.identity("offline", "")
    assert named.config()["encoder"] == "/models/e5-small"
    # an unnamed encoder is reported as the function that embeds, never as an assumed model
    assert TaxonomyLabelTask(LEAVES, encode).offline_model_used() == "tests.fakes.word_vectors.encode:leaf-similarity"


def test_the_asset_names_the_embeddings_resource_model_which_follows_the_environment(monkeypatch, mmf_env):
    from resources.deployment import build_resources

    monkeypatch.setenv("MMFOUNDRY_EMBEDDING_MODEL", "/models/bge-small")
    embeddings = build_resources()["embeddings"]
    assert embeddings.model_name == "/models/bge-small"
    task = TaxonomyLabelTask(LEAVES, encode, encoder=embeddings.model_name)  # as taxonomy_labels builds it
    assert task.offline_model_used() == "/models/bge-small:leaf-similarity"


def _remote(server, tmp_path, **kw):
    return LLMResource(backend="openai", model="fake", base_url=server.base_url, api_key="k",
                       cache_path=str(tmp_path / "llm.sqlite"), max_concurrency=1, backoff_initial_s=0.01,
                       backoff_max_s=0.02, timeout_s=5.0, **kw)


def test_an_answer_outside_the_taxonomy_is_asked_again_with_the_reason(tmp_path):
    answers = iter([json.dumps({"category": "Baking"}), json.dumps({"category": "Recipe Videos"})])
    with FakeChatServer(lambda m: next(answers)) as server:
        run = _remote(server, tmp_path).run(TaxonomyLabelTask(LEAVES, encode), [ITEM])
    assert run.results[0].value.category == "Lifestyle > Food & Cooking > Recipe Videos"
    assert server.calls == 2
    assert "'Baking' is not one of the categories" in json.dumps(server.requests[1]["messages"])


def test_an_answer_that_stays_invalid_is_a_failed_label_not_a_crash(tmp_path):
    with FakeChatServer(lambda m: json.dumps({"category": "Short Films"})) as server:
        run = _remote(server, tmp_path, validation_retries=1).run(TaxonomyLabelTask(LEAVES, encode), [ITEM, ITEM])
    assert [r.ok for r in run.results] == [False, False] and run.failed == 2
    assert run.results[0].error.startswith("ValidationError") and run.results[0].attempts == 2
    assert server.calls == 4  # each item: the question and one re-ask; nothing invalid was cached
    assert "names several categories" in json.dumps(server.requests[1]["messages"])
