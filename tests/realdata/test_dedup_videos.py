"""Near-duplicate videos on real footage: edits of two real clips (made in tmp_path with
imageio-ffmpeg, the shared files only read) are found from the still hashes the dynamism screen
stores (one still a second), trims of the one-shot clip included; the clips are not paired with each
other, nor a clip's first half with its second half, nor a half with the full-length clip (an
excerpt); a shard queried against an index finds what one run over everything finds. The full
labelled set and its precision and recall: `python -m bench.dedup_videos_set`."""

from __future__ import annotations

import itertools

import polars as pl
import pytest

from assets.hygiene.video_fingerprints import item_row, items_frame, near_duplicates
from bench.dedup_videos_set import EDITS, TRIMMED, encode, make_edit, probe, still_hashes
from tests.realdata.rowtable import require_realdata

CLIPS = {  # a multi-shot clip and a one-shot home video (its trim keeps no shot middle, but stills)
    "transitiondetect_demo.mp4": ("reencode", "letterbox", "crop", "trim", "resize+letterbox"),
    "datajuicer_video4.mp4": ("reencode", "crop+resize", "letterbox", "trim"),
}


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    folder = require_realdata("videos")
    missing = [c for c in CLIPS if not (folder / c).is_file()]
    if missing:
        pytest.skip(f"real clips missing from {folder}: {missing}")
    out = tmp_path_factory.mktemp("dedup")
    made = {}
    for clip, edits in CLIPS.items():
        src, family = folder / clip, clip.split(".")[0]
        made[family] = (family, src)
        for edit in edits:
            made[f"{family}.{edit}"] = (family, make_edit(src, out / f"{family}.{edit}.mp4", EDITS[edit]))
    half = probe(folder / "transitiondetect_demo.mp4")[0] / 2
    for name, start in (("half1", 0.0), ("half2", half)):
        path = encode(folder / "transitiondetect_demo.mp4", out / f"{name}.mp4", start_s=start, length_s=half)
        made[f"transitiondetect_demo.{name}"] = ("transitiondetect_demo.halves", path)
    rows = [item_row(name, *still_hashes(path, out)) for name, (_, path) in made.items()]
    return {name: family for name, (family, _) in made.items()}, items_frame(rows)


def test_the_edits_are_found_and_other_footage_is_not(videos):
    """A half against a full-length copy of its clip is an excerpt (half as long), another video; a
    half against the trim (two thirds as long) is left out, as the labelled set leaves it."""
    family, items = videos
    found = {tuple(sorted(p)) for p in near_duplicates(items).select("a", "b").rows()}
    pairs = [tuple(sorted(p)) for p in itertools.combinations(family, 2)]
    copies = {(a, b) for a, b in pairs if family[a] == family[b] and not family[a].endswith(".halves")}
    other = {(a, b) for a, b in pairs if family[a].split(".")[0] != family[b].split(".")[0]}
    other.add(("transitiondetect_demo.half1", "transitiondetect_demo.half2"))
    halves = [n for n in family if family[n].endswith(".halves")]
    full = [n for n in family if family[n] == "transitiondetect_demo" and n.rsplit(".", 1)[-1] not in TRIMMED]
    other |= {tuple(sorted((h, f))) for h in halves for f in full}
    assert copies - found == set(), "an edit of a real clip was not found"
    assert found & other == set(), "paired across clips, a first half with its second half, or a half with its clip"


def test_the_stills_are_usable(videos):
    _, items = videos
    stills_per_video = dict(items.select("item", pl.col("hashes").list.len()).iter_rows())
    assert stills_per_video["transitiondetect_demo"] >= 15 and stills_per_video["datajuicer_video4"] >= 15
    assert all(n >= 1 for n in stills_per_video.values())


def test_a_shard_against_an_index_equals_one_run_over_everything(videos):
    _, items = videos
    index = items.filter(~pl.col("item").str.contains(r"\.(crop|trim|half)"))
    shard = items.filter(pl.col("item").str.contains(r"\.(crop|trim|half)"))
    both = near_duplicates(shard, index).select("a", "b").rows() + near_duplicates(index).select("a", "b").rows()
    assert sorted(tuple(sorted(p)) for p in both) == sorted(near_duplicates(items).select("a", "b").rows())
