import os
import time

import pytest

from resources.containment import OUTSIDE, OutsideLandingZone
from resources.landing import LandingZone, safe_id, safe_key
from resources.settings import ConfigError


@pytest.mark.parametrize("name", ["shard-001", "part_7.v2", "A.b-C_d"])
def test_safe_names_are_unchanged(name):
    assert safe_key(name) == name


@pytest.mark.parametrize("name", ["a,b", "with space", "../../etc/passwd", "..", ".hidden", "ünïcode", "a/b", ""])
def test_unsafe_names_become_safe_distinct_keys(name):
    key = safe_key(name)
    assert key and all(c.isalnum() or c in "_.-" for c in key)
    assert not key.startswith(".") and "/" not in key and key != name


def test_sanitised_names_never_collide():
    assert safe_key("a,b") != safe_key("a b") != safe_key("a_b")


def test_ids_from_data_cannot_leave_the_folder(tmp_path):
    for evil in ["../../x", "/abs/path", "..\\..\\y"]:
        target = (tmp_path / f"{safe_id(evil)}.mp4").resolve()
        assert target.parent == tmp_path.resolve()


def test_shards_are_listed_with_fingerprints_that_change_on_rewrite(tmp_path):
    (tmp_path / "youtube_commons").mkdir()
    f = tmp_path / "youtube_commons" / "s 1.parquet"
    f.write_bytes(b"x")
    (tmp_path / "youtube_commons" / "notes.txt").write_text("ignored")
    (tmp_path / "pdfa" / "batch,1").mkdir(parents=True)
    (tmp_path / "pdfa" / "batch,1" / "d.pdf").write_bytes(b"%PDF")
    zone = LandingZone(root=str(tmp_path))
    shards = zone.video_shards()
    assert list(shards) == [safe_key("s 1")]
    before = next(iter(shards.values())).fingerprint
    time.sleep(0.01)
    f.write_bytes(b"xy")
    os.utime(f, (time.time() + 5, time.time() + 5))
    assert next(iter(zone.video_shards().values())).fingerprint != before
    assert list(zone.document_shards()) == [safe_key("batch,1")]
    assert zone.video_shard(safe_key("s 1")).uri.endswith("s 1.parquet")
    assert zone.video_shard("nope") is None  # not (or no longer) landed: the root withdraws it


def test_a_same_size_rewrite_with_its_mtime_restored_changes_the_fingerprint(tmp_path):
    """Size + mtime missed a licence change (CC-BY -> CC-NC) written in place with the mtime put
    back; the fingerprint is the content's."""
    (tmp_path / "youtube_commons").mkdir()
    f = tmp_path / "youtube_commons" / "s.parquet"
    f.write_bytes(b"license=CC-BY")
    st = f.stat()
    zone = LandingZone(root=str(tmp_path))
    before = zone.video_shards()["s"].fingerprint
    f.write_bytes(b"license=CC-NC")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size and f.stat().st_mtime_ns == st.st_mtime_ns
    assert zone.video_shards()["s"].fingerprint != before
    f.write_bytes(b"license=CC-BY")  # back to the first content: the first fingerprint
    assert zone.video_shards()["s"].fingerprint == before


def test_a_shard_linked_to_a_device_or_outside_is_fingerprinted_without_reading_it(tmp_path):
    (tmp_path / "zone" / "youtube_commons").mkdir(parents=True)
    (tmp_path / "zone" / "youtube_commons" / "zero.parquet").symlink_to("/dev/zero")
    zone = LandingZone(root=str(tmp_path / "zone"))
    assert list(zone.video_shards()) == ["zero"]  # listed (its root says why it is refused), never read


def test_missing_landing_zone_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="landing zone .* does not exist"):
        LandingZone(root=str(tmp_path / "absent")).require()


def test_video_and_subtitle_lookup(tmp_path):
    (tmp_path / "videos").mkdir()
    (tmp_path / "videos" / "abc.webm").write_bytes(b"1")
    (tmp_path / "videos" / "abc.en.vtt").write_text("WEBVTT")
    zone = LandingZone(root=str(tmp_path))
    assert zone.video_file("abc").name == "abc.webm"
    assert zone.subtitle_file("abc").name == "abc.en.vtt"
    assert zone.video_file("zzz") is None


def test_paths_that_resolve_outside_the_zone_are_refused_and_links_inside_are_not(tmp_path):
    root, outside = tmp_path / "zone", tmp_path / "outside"
    (root / "videos").mkdir(parents=True)
    (root / "store").mkdir()
    outside.mkdir()
    (outside / "v.mp4").write_bytes(b"theirs")
    (root / "store" / "ok.mp4").write_bytes(b"ours")
    (root / "videos" / "out.mp4").symlink_to(outside / "v.mp4")
    (root / "videos" / "out.en.vtt").symlink_to(outside / "gone.vtt")  # dangling: still judged by where it points
    (root / "videos" / "in.mp4").symlink_to(root / "store" / "ok.mp4")
    zone = LandingZone(root=str(root))
    assert zone.video_file("in").name == "in.mp4" and zone.fetch(str(root / "videos" / "in.mp4")).read_bytes() == b"ours"
    for call in (lambda: zone.video_file("out"), lambda: zone.subtitle_file("out"),
                 lambda: zone.fetch(str(root / "videos" / "out.mp4")), lambda: zone.fetch(str(root / ".." / "outside" / "v.mp4"))):
        with pytest.raises(OutsideLandingZone, match="outside the landing zone") as e:
            call()
        assert e.value.reason == OUTSIDE


def test_a_hard_link_is_refused_unless_allowed(tmp_path):
    (tmp_path / "videos").mkdir()
    other = tmp_path.parent / f"{tmp_path.name}-elsewhere.mp4"
    other.write_bytes(b"x")
    os.link(other, tmp_path / "videos" / "h.mp4")
    with pytest.raises(OutsideLandingZone, match="hard link .2 names"):
        LandingZone(root=str(tmp_path)).video_file("h")
    assert LandingZone(root=str(tmp_path), allow_hard_links=True).video_file("h").name == "h.mp4"
    other.unlink()
