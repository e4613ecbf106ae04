"""The annotation's model path against a real local chat-completions server: describe (frames +
transcript), structure into the schema, and FineVideo's "be concise" second round."""

import base64
import json

from assets.finevideo.annotation_assets import describe_and_structure
from assets.finevideo.annotation_tasks import VideoDescriptionTask
from assets.finevideo.shot_frames import frame_times
from corpus.videos import Segment, VideoSpec, render
from resources.llm import LLMResource
from tests.fakes.fault_server import FakeChatServer
from tests.fakes.word_vectors import encode


def schema_json(end: str) -> str:
    scene = {"sceneId": 1, "title": "all", "timestamps": {"start_timestamp": "00:00", "end_timestamp": end},
             "cast": [], "activities": [], "props": [], "videoEditingDetails": [],
             "mood": {"description": "Calm", "keyMoments": []}, "narrativeProgression": [],
             "characterInteraction": [], "thematicElements": "", "contextualRelevance": "",
             "dynamismScore": 0.5, "audioVisualCorrelation": 0.5}
    return json.dumps({"title": "t", "description": "d", "characterList": [], "scenes": [scene],
                       "storylines": {"description": "", "scenes": [1], "climax": {"description": "", "timestamp": "00:05"}},
                       "qAndA": [], "trimmingSuggestions": []})


class Model:
    """Describes verbosely (its scene runs past the end) until asked to be concise."""

    def __init__(self):
        self.concise = False

    def __call__(self, messages) -> str:
        text = json.dumps(messages)
        if "Study the video" in text:
            self.concise = "be concise with your answer" in text
            return json.dumps({"text": "one calm scene until 00:30" if self.concise else "one long scene to 09:59"})
        return schema_json("00:30" if "until 00:30" in text else "09:59")


ITEM = {"record_id": "yt:a", "title": "Bread", "duration_s": 30.0, "category": "", "transcript": "hi.",
        "cues": [[1.0, 2.0, "hi.", False]], "cuts": [], "motion": [0.0] * 30, "freezes": [], "frames": []}


def test_invalid_structure_is_described_again_concisely_then_accepted(tmp_path):
    model = Model()
    with FakeChatServer(model) as server:
        vlm = LLMResource(backend="openai", model="fake-vlm", base_url=server.base_url, api_key="k",
                          cache_path=str(tmp_path / "llm.sqlite"), max_concurrency=1, validation_retries=1,
                          backoff_initial_s=0.01, backoff_max_s=0.02)
        (result,), runs = describe_and_structure(vlm, encode, [ITEM])
    assert result.annotation.ok, result.annotation.error
    assert result.annotation.value.scenes[0].timestamps.end_timestamp == "00:30"
    assert result.item["concise"] and result.item["description"] == "one calm scene until 00:30"
    assert result.description.backend == "openai" and result.description.model == "fake-vlm"
    assert sum(r.calls for r in runs) == 7
    prompts = [json.dumps(r["messages"]) for r in server.requests]
    # describe; structure + instructor's re-ask; the task's repair ("Be concise") + its re-ask, all
    # still past the end because the description is; describe concisely; structure
    assert len(prompts) == 7 and "after the video's end" in prompts[2]
    assert "Be concise with your answer: fewer, shorter entries" in prompts[3]
    assert "be concise with your answer" in prompts[5] and "be concise" not in prompts[0].lower()


def test_a_failed_description_is_not_structured(tmp_path):
    with FakeChatServer(Model(), default="500") as server:
        vlm = LLMResource(backend="openai", model="fake-vlm", base_url=server.base_url, api_key="k",
                          cache_path=str(tmp_path / "llm.sqlite"), max_attempts=2, backoff_initial_s=0.01,
                          backoff_max_s=0.02)
        (result,), _ = describe_and_structure(vlm, encode, [ITEM])
    assert not result.description.ok and "InternalServerError" in result.description.error
    assert result.annotation is None and server.calls == 2  # two tries of the description, nothing else


def test_a_vlm_gets_stills_of_the_shot_middles_and_the_timed_transcript(tmp_path):
    from assets.finevideo.dynamism import analyse

    spec = VideoSpec((Segment("testsrc", 3.0), Segment("bars", 3.0)), width=64, height=36, fps=5, audio=False)
    path = render(spec, tmp_path / "v.mp4")
    measured = analyse(path, 6.0)  # the dynamism screen's one decode keeps them
    assert measured.scene_cuts_s == [3.0] and frame_times([3.0], 6.0) == [1.5, 4.5]
    # the stills nearest the shot middles (one a second is kept): inside their shot, within half a second
    (a, _), (b, _) = measured.frames
    assert 0 < a < 3 < b < 6 and abs(a - 1.5) <= 0.5 and abs(b - 4.5) <= 0.5
    urls = ["data:image/jpeg;base64," + base64.b64encode(jpeg).decode() for _, jpeg in measured.frames]
    assert all(jpeg[:2] == b"\xff\xd8" for _, jpeg in measured.frames)
    parts = VideoDescriptionTask("frames").messages({**ITEM, "frames": urls})[0]["content"]
    assert [p["type"] for p in parts] == ["text", "text", "image_url", "image_url", "text"]
    assert parts[-1]["text"] == "Transcript:\n[00:01-00:02] hi."


def test_the_annotation_item_reads_the_screens_stills_and_never_opens_the_video(tmp_path, monkeypatch):
    import av
    import pytest

    from assets.finevideo.annotation_assets import NotMeasured, _item
    from resources.storage import MediaStore

    media = MediaStore(root=str(tmp_path / "media"))
    still = media.put_bytes(b"\xff\xd8 a jpeg", "jpg")
    row = {"record_id": "r", "duration_s": 6.0, "media_uri": (tmp_path / "absent.mp4").as_uri(),
           "scene_cuts_s": [3.0], "frames": [{"time_s": 1.5, "uri": still.uri}]}
    monkeypatch.setattr(av, "open", lambda *a, **k: pytest.fail("the annotation step opened the video"))
    item, (cuts_source, _) = _item(row, media, "openai")
    assert item["cuts"] == [3.0] and cuts_source == "dynamism_screen"
    assert base64.b64decode(item["frames"][0].split(",", 1)[1]) == b"\xff\xd8 a jpeg"
    with pytest.raises(NotMeasured):  # a partition written before the screen kept them: a named rejection
        _item({**row, "frames": None}, media, "openai")
