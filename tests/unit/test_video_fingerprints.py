"""Near-duplicate video fingerprints on pictures built here: the hashes the dynamism screen stores
(bars cut off, flat stills left out, imagehash's pHash), signatures from the stored `still_hashes`,
the still distance and the two-threshold rule, candidates through band_index, an index never
compared with itself, and the copy each duplicate group keeps."""

from __future__ import annotations

import cv2
import numpy as np
import polars as pl
import pytest
from pydantic import ValidationError

from assets.finevideo.contract import DYNAMISM_SCREEN
from assets.hygiene import perceptual_hash as ph
from assets.hygiene import video_fingerprints as vf
from assets.hygiene.band_index import candidate_pairs

W, H = 384, 216


def picture(seed: int, w: int = W, h: int = H) -> np.ndarray:
    """A smooth random scene with a few shapes: detail at the scales a pHash looks at."""
    rng = np.random.default_rng(seed)
    base = cv2.resize(rng.random((6, 10)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = cv2.normalize(base, None, 40, 220, cv2.NORM_MINMAX).astype(np.uint8)
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    for _ in range(4):
        x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(h // 10, h // 4))
        cv2.circle(img, (x, y), r, tuple(int(c) for c in rng.integers(0, 255, 3)), -1)
    return img


def jpeg(img: np.ndarray, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def jpeg_roundtrip(img: np.ndarray, quality: int = 85) -> np.ndarray:
    """The picture after a JPEG encode and decode: compression noise, as a re-encoded copy has."""
    return cv2.imdecode(np.frombuffer(jpeg(img, quality), np.uint8), cv2.IMREAD_COLOR)


def letterbox(img: np.ndarray, bar: int) -> np.ndarray:
    return cv2.copyMakeBorder(img, bar, bar, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0))


def pillarbox(img: np.ndarray, bar: int) -> np.ndarray:
    return cv2.copyMakeBorder(img, 0, 0, bar, bar, cv2.BORDER_CONSTANT, value=(0, 0, 0))


def crop(img: np.ndarray, share: float = 0.1) -> np.ndarray:
    h, w = img.shape[:2]
    dy, dx = round(h * share), round(w * share)
    return cv2.resize(img[dy:h - dy, dx:w - dx], (w, h), interpolation=cv2.INTER_AREA)


def bits(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def whole(img: np.ndarray) -> int | None:
    pair = ph.array_hashes(img)
    return None if pair is None else pair[0]


def still_hashes(pictures: list[np.ndarray], edit=lambda img: img) -> list[tuple[float, int | None, int | None]]:
    """As the dynamism screen stores them: one still a second, flat ones with null hashes."""
    return [(float(i), *(ph.array_hashes(edit(p)) or (None, None))) for i, p in enumerate(pictures)]


def video(name: str, pictures: list[np.ndarray], duration_s: float = 30.0, edit=lambda img: img) -> tuple:
    return vf.item_row(name, duration_s, still_hashes(pictures, edit))


# --- hashes -------------------------------------------------------------------------------------

def test_a_hash_is_an_unsigned_64_bit_int_from_a_bgr_or_grey_picture():
    img = picture(1)
    h, centre = ph.array_hashes(img)
    assert isinstance(h, int) and 0 <= h < 2**64 and isinstance(centre, int) and 0 <= centre < 2**64
    assert ph.array_hashes(img) == (h, centre)  # deterministic
    assert ph.array_hashes(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)) == (h, centre)


def test_the_hash_is_imagehashs_phash():
    """Same reduction, DCT and median cut as imagehash.phash (resampling aside): 0-2 bits apart."""
    import imagehash
    from PIL import Image

    for seed in range(12):
        grey = cv2.cvtColor(picture(seed), cv2.COLOR_BGR2GRAY)
        theirs = imagehash.phash(Image.fromarray(grey)).hash.flatten()
        assert bits(whole(grey), int.from_bytes(np.packbits(theirs).tobytes(), "big")) <= 2


@pytest.mark.parametrize("box", [lambda p: letterbox(p, 40), lambda p: pillarbox(p, 60),
                                 lambda p: pillarbox(letterbox(p, 24), 30)], ids=["letterbox", "pillarbox", "both"])
def test_bars_are_cut_off_so_a_boxed_copy_hashes_like_the_original(box):
    original = picture(2)
    assert bits(whole(original), whole(jpeg_roundtrip(box(original)))) <= 4
    assert ph.content_box(cv2.cvtColor(box(original), cv2.COLOR_BGR2GRAY)) != (slice(0, None), slice(0, None))


def test_without_cutting_the_bars_the_letterbox_would_change_the_hash():
    original, boxed = picture(2), letterbox(picture(2), 40)
    grey = cv2.cvtColor(jpeg_roundtrip(boxed), cv2.COLOR_BGR2GRAY)
    rows, cols = ph.content_box(grey)
    assert abs(rows.start - 40) <= 1 and abs(rows.stop - (H + 40)) <= 1 and cols == slice(0, W)
    uncut = ph._phash(ph._cells(cv2.integral(grey), slice(0, grey.shape[0]), slice(0, grey.shape[1])))
    assert bits(uncut, whole(original)) > vf.DEFAULT_RULES.max_distance


def test_dark_footage_touching_the_edge_is_not_a_bar():
    img = picture(3)
    img[:30] = np.linspace(0, 50, W, dtype=np.uint8)[None, :, None]  # a dark sky fading in: dark, not uniform
    grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    assert ph.content_box(grey)[0].start == 0


@pytest.mark.parametrize("flat", [
    np.zeros((H, W, 3), np.uint8),
    np.full((H, W, 3), 128, np.uint8),
    cv2.putText(np.zeros((H, W, 3), np.uint8), "tv", (W - 30, H - 10), 0, 0.4, (255, 255, 255), 1),
    letterbox(np.full((H - 80, W, 3), 200, np.uint8), 40),
    picture(4, 24, 24),  # smaller than the 32 x 32 grid the hash reduces to
], ids=["black", "grey", "logo-on-black", "boxed-flat", "tiny"])
def test_flat_stills_are_unusable(flat):
    assert ph.array_hashes(flat) is None
    assert ph.array_hashes(jpeg_roundtrip(flat)) is None


def test_hamming_small_for_the_same_picture_re_encoded_or_resized_large_for_another():
    p = picture(4)
    h = whole(jpeg_roundtrip(p))
    assert bits(h, whole(jpeg_roundtrip(p, quality=30))) <= 4
    assert bits(h, whole(jpeg_roundtrip(cv2.resize(p, (W // 2, H // 2), interpolation=cv2.INTER_AREA)))) <= 4
    others = [bits(h, whole(picture(s))) for s in range(10, 20)]
    assert min(others) > vf.DEFAULT_RULES.max_distance


def test_a_cropped_copy_meets_the_originals_centre():
    p = picture(5)
    full, centre = ph.array_hashes(p)
    cropped = whole(jpeg_roundtrip(crop(p)))
    assert bits(cropped, centre) <= vf.DEFAULT_RULES.anchor_distance
    assert bits(cropped, centre) < bits(cropped, full)


# --- signatures from the stored hashes ----------------------------------------------------------

def test_signature_keeps_time_order_counts_a_repeated_still_once_and_skips_flat_ones():
    a, b = ph.array_hashes(picture(6)), ph.array_hashes(picture(7))
    stored = [(3.0, *b), (2.0, *a), (0.0, None, None), (5.0, *a), (1.0, a[0], None)]
    hashes, centres = vf.signature(stored)
    assert hashes == [a[0], a[0], b[0]] and centres == [None, a[1], b[1]]


def test_signature_reads_the_stored_column():
    """The dynamism screen's `still_hashes` (UInt64 structs, null where flat) read back as rows."""
    top = 2**64 - 1  # past Int64: the column is unsigned
    stored = [{"time_s": 0.0, "hash": top, "centre": 5}, {"time_s": 1.0, "hash": None, "centre": None},
              {"time_s": 2.0, "hash": 7, "centre": None}]
    df = pl.DataFrame({"still_hashes": [stored, None]}, schema={"still_hashes": DYNAMISM_SCREEN["still_hashes"]})
    rows = df["still_hashes"].to_list()
    assert vf.signature(rows[0]) == ([top, 7], [5, None])
    assert vf.signature([(t, w, c) for t, w, c in [(0.0, top, 5), (1.0, None, None), (2.0, 7, None)]]) == \
        vf.signature(rows[0])
    items = vf.items_frame([vf.item_row("a", 3.0, rows[0]), vf.item_row("b", None, rows[1])])
    assert items.schema == pl.Schema(vf.ITEM_SCHEMA)
    assert items.row(0) == ("a", 3.0, [top, 7], [5, None]) and items.row(1) == ("b", None, [], [])


def test_still_distance_asks_both_whole_and_centre_when_framed_alike():
    """Slides in one template share their layout (wholes close) but not the words in the middle
    (centres far apart); a crop meets the other's centre with its whole."""
    rows = [  # w_a, c_a, w_b, c_b
        (0, 0xFFFF << 32, 0b11, (0xFFFF << 32) ^ 0xFFF),  # wholes 2 apart, centres 12: 12
        (0, 0xFFFF << 32, 0b11, None),  # a centre flat: the wholes alone
        (0, 0xFF00, 0xFF03, 0xFFFF0000),  # whole b is centre a, give or take 2 bits: a crop
    ]
    df = pl.DataFrame(rows, schema={c: pl.UInt64 for c in ("w_a", "c_a", "w_b", "c_b")}, orient="row")
    assert df.select(vf.still_distance()).to_series().to_list() == [12, 2, 2]


# --- bands and candidates -----------------------------------------------------------------------

def test_band_keys_cut_each_hash_into_32_bit_slices_in_every_layout():
    keys = vf.band_keys([0x0123456789ABCDEF])
    assert keys.shape == (1, len(vf.LAYOUTS) * vf.BANDS) and vf.BANDS == 2
    assert [int(k) for k in keys[0, :2]] == [0x01234567, 0x89ABCDEF]  # as stored
    bits = f"{0x0123456789ABCDEF:064b}"
    assert [int(k) for k in keys[0, 2:4]] == [int(bits[0::2], 2), int(bits[1::2], 2)]  # every other bit
    assert int(keys.max()) < 1 << 32


def test_bands_do_not_depend_on_the_stills_position():
    pics = [picture(s) for s in (20, 21, 22)]
    items = vf.items_frame([video("long", pics), video("later", pics[2:])])
    assert candidate_pairs(vf.band_frame(items)).rows() == [("later", "long")]


def test_one_flipped_bit_in_every_band_of_one_layout_still_meets_in_another():
    h = whole(picture(23))
    flipped = h ^ (1 << 63) ^ (1 << 31)  # one bit in each stored band, both in the same interleaved band
    a, b = vf.band_keys([h, flipped])
    assert not (a[:2] == b[:2]).any() and (a[2:] == b[2:]).any()


# --- the rule -----------------------------------------------------------------------------------

def _scenes(seed: int, n: int) -> list[np.ndarray]:
    return [picture(seed * 100 + i) for i in range(n)]


def test_edited_copies_are_found_and_other_videos_are_not():
    shots = _scenes(1, 5)
    items = vf.items_frame([
        video("orig", shots, 30.0),
        video("boxed", shots, 30.0, lambda p: letterbox(cv2.resize(p, (W // 2, H // 2)), 30)),
        video("cropped", shots, 30.0, crop),
        video("trimmed", shots[2:], 22.0),  # lost the first shots
        video("other", _scenes(2, 5), 30.0),
    ])
    found = {(a, b) for a, b in vf.near_duplicates(items).select("a", "b").rows()}
    family = {"orig", "boxed", "cropped", "trimmed"}
    assert found == {tuple(sorted(p)) for p in [(x, y) for x in family for y in family if x < y]}


def test_a_short_excerpt_of_a_long_video_is_another_video():
    shots = _scenes(3, 6)
    items = vf.items_frame([video("long", shots, 600.0), video("excerpt", shots[:3], 60.0)])
    assert vf.near_duplicates(items).height == 0
    assert vf.near_duplicates(items, rules=vf.VideoDedupRules(min_duration_ratio=0.05)).height == 1


def test_one_shared_still_is_not_a_copy():
    intro = picture(999)
    a = video("a", [intro, *_scenes(4, 2)], 30.0)
    b = video("b", [intro, *_scenes(5, 2)], 30.0)
    measured = vf.verify(pl.DataFrame({"a": ["a"], "b": ["b"]}), vf.items_frame([a, b]))
    assert measured.row(0, named=True)["matched"] == 1 and measured.row(0, named=True)["closest"] <= 2
    assert measured.filter(vf.is_duplicate()).height == 0


def test_one_still_videos_need_their_one_still_to_match():
    items = vf.items_frame([video("a", [picture(7)], 20.0), video("b", [picture(7)], 20.0, crop),
                            video("c", [picture(8)], 20.0)])
    assert vf.near_duplicates(items).select("a", "b").rows() == [("a", "b")]


def test_the_anchor_is_required_even_when_many_stills_are_loosely_alike():
    measured = pl.DataFrame({"a": ["x"], "b": ["y"], "stills_a": [4], "stills_b": [4], "matched": [4],
                             "share": [1.0], "closest": [10], "duration_ratio": [1.0]}, schema=vf.PAIR_SCHEMA)
    assert measured.filter(vf.is_duplicate()).height == 0
    assert measured.filter(vf.is_duplicate(vf.VideoDedupRules(anchor_distance=10))).height == 1


def _pan(seed: int, start_px: int, n: int, step_px: int = 40) -> list[np.ndarray]:
    """One still a second of a one-shot clip panning `step_px` a second over a wide scene."""
    scene = picture(seed, w=3000)
    return [scene[:, x:x + W] for x in range(start_px, start_px + step_px * n, step_px)]


def test_a_trimmed_one_shot_clip_is_a_copy_and_its_second_half_is_not():
    """Every still is hashed, so a trim of a one-shot clip keeps stills of its one shot, each half a
    second (20 px) off the original's grid; the second half matches still by still, but lasts half
    as long: an excerpt, another video."""
    items = vf.items_frame([video("clip", _pan(40, 0, 40), 40.0),
                            video("trimmed", _pan(40, 420, 29), 29.5),  # cut at 10.5 s: half a step off
                            video("half", _pan(40, 800, 20), 20.0)])
    measured = {r["b"]: r for r in vf.verify(pl.DataFrame({"a": ["clip", "clip"], "b": ["trimmed", "half"]}),
                                             items).iter_rows(named=True)}
    trimmed, half = measured["trimmed"], measured["half"]
    assert trimmed["closest"] <= vf.DEFAULT_RULES.anchor_distance and trimmed["share"] >= vf.DEFAULT_RULES.min_share
    assert half["share"] == 1.0 and half["closest"] == 0 and half["duration_ratio"] == 0.5
    found = vf.near_duplicates(items).select("a", "b").rows()
    assert ("clip", "trimmed") in found and ("clip", "half") not in found


def test_rules_are_frozen_strict_and_described():
    rules = vf.VideoDedupRules()
    with pytest.raises(ValidationError):
        vf.VideoDedupRules(max_distnce=3)
    with pytest.raises(ValidationError):
        rules.max_distance = 3
    text = rules.describe()
    assert f"within {rules.anchor_distance} of 64" in text and f"within {rules.max_distance} bits" in text


# --- index queries ------------------------------------------------------------------------------

def test_an_index_is_queried_but_never_compared_with_itself():
    shots = _scenes(6, 4)
    index = vf.items_frame([video("old1", shots), video("old2", shots, edit=crop), video("old3", _scenes(7, 4))])
    new = vf.items_frame([video("new1", shots, edit=lambda p: letterbox(p, 30)), video("new2", _scenes(8, 4)),
                          video("new3", _scenes(8, 4), edit=lambda p: jpeg_roundtrip(p, 30))])
    found = vf.near_duplicates(new, index).select("a", "b").rows()
    assert found == [("new1", "old1"), ("new1", "old2"), ("new2", "new3")]
    assert ("old1", "old2") in vf.near_duplicates(index).select("a", "b").rows()  # they are duplicates ...
    # ... and a shard queried against the index gives what one run over everything gives, less that pair
    everything = vf.near_duplicates(pl.concat([index, new])).select("a", "b").rows()
    assert sorted(everything) == sorted([*vf.near_duplicates(index).select("a", "b").rows(),
                                         *[tuple(sorted(p)) for p in found]])


def test_no_items_no_pairs():
    empty = vf.items_frame([])
    assert vf.near_duplicates(empty).height == 0
    assert vf.near_duplicates(vf.items_frame([video("a", [picture(9)])]), empty).height == 0


# --- groups and the kept copy -------------------------------------------------------------------

def _records(rows):
    return pl.DataFrame(rows, schema={"item": pl.String, "duration_s": pl.Float64, "width": pl.Int64,
                                      "height": pl.Int64, "licence": pl.String, "landed_at": pl.Datetime,
                                      "sha256": pl.String}, orient="row")


def test_the_group_keeps_the_longest_then_largest_then_best_licence_then_earliest():
    from datetime import datetime

    t = [datetime(2024, 1, d) for d in range(1, 8)]
    records = _records([
        ("a", 60.0, 640, 360, "cc-by", t[0], "x1"),
        ("b", 60.2, 1280, 720, "cc-by-sa", t[1], "x2"),  # same length to the second, more pixels: kept
        ("c", 45.0, 1920, 1080, "cc-by", t[2], "x3"),  # trimmed: shorter
        ("d", 30.0, 640, 360, "cc-by", t[3], "x4"),  # alone
        ("e", 30.0, 640, 360, "cc-by-sa", t[4], "x5"),
        ("f", 30.0, 640, 360, "CC-BY", t[6], "x6"),  # best licence, landed later than g
        ("g", 30.0, 640, 360, "cc-by 4.0", t[5], "x7"),  # same licence, landed first: kept
    ])
    pairs = pl.DataFrame({"a": ["a", "b", "e", "f"], "b": ["b", "c", "f", "g"]})
    out = {r["item"]: r for r in vf.kept_copy(records, pairs).iter_rows(named=True)}
    assert {i: out[i]["kept"] for i in "abc"} == {"a": "b", "b": "b", "c": "b"}  # a~b~c: one group via b
    assert out["d"]["kept"] == "d" and out["d"]["group_size"] == 1
    assert {i: out[i]["kept"] for i in "efg"} == {"e": "g", "f": "g", "g": "g"}
    assert out["a"]["group"] == out["c"]["group"] and out["a"]["group_size"] == 3


def test_the_same_file_hash_is_a_duplicate_whatever_the_stills():
    from datetime import datetime

    records = _records([("a", 10.0, 640, 360, "cc-by", datetime(2024, 1, 2), "same"),
                        ("b", 10.0, 640, 360, "cc-by", datetime(2024, 1, 1), "same"),
                        ("c", 10.0, 640, 360, "cc-by", datetime(2024, 1, 1), None)])
    assert vf.exact_pairs(records).rows() == [("a", "b")]
    out = dict(vf.kept_copy(records, pl.DataFrame(schema={"a": pl.String, "b": pl.String})).select("item", "kept")
               .iter_rows())
    assert out == {"a": "b", "b": "b", "c": "c"}


def test_missing_values_rank_last_and_a_rank_column_may_replace_the_licence():
    records = pl.DataFrame({"item": ["a", "b", "c"], "duration_s": [None, 10.0, 10.0], "width": [4000, 640, 640],
                            "height": [4000, 360, 360], "licence_rank": [0, 2, 1],
                            "landed_at": [None, None, "2024-01-01"]})
    out = dict(vf.kept_copy(records, pl.DataFrame({"a": ["a", "b"], "b": ["b", "c"]})).select("item", "kept")
               .iter_rows())
    assert set(out.values()) == {"c"}


def test_licence_rank_orders_permissive_first():
    ranks = [vf.licence_rank(x) for x in ["cc0", "CC-BY", "creativeCommon", "cc by-sa 4.0", "cc-by-nc-nd", None,
                                          "all rights reserved"]]
    assert ranks[0] < ranks[1] == ranks[2] < ranks[3] < ranks[4] < ranks[5] == ranks[6]
