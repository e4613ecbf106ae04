"""Near-duplicate videos (the same footage re-uploaded under another id: re-encoded, resized,
letterboxed, cropped, trimmed) found from the perceptual hashes the dynamism screen stored, so no
video is decoded again. Pure logic: no Dagster.

Hashes (`array_hashes`). The dynamism screen takes a small upright still every second during its one
decode and hashes every one (`still_hashes`: under 0.1 ms a still at 384 x 216, ~1% of its CPU
time) with this code: a 64-bit pHash (imagehash's: the 8 x 8 lowest DCT frequencies of a 32 x 32
area reduction against their median; here from an integral image, 0-2 bits from imagehash's) of the
picture after cutting off the black bars of a letterbox or pillarbox, plus a second hash of its
central CENTRE_SHARE: a copy cropped by 10% a side shows what that centre shows, so its whole-picture
hash meets the original's centre hash (a 10% crop costs 10-26 bits whole against whole, 0-4 this
way). Flat stills (black, one colour, a small logo on black) hash to noise and would match any other
flat still: they are stored with null hashes and left out of the signature.

Signatures (`signature`, `item_row`: from the stored `still_hashes`) are every usable still in time
order (equal hash pairs once). Dense stills, not only shot middles, so a trimmed copy keeps stills
of every stretch it kept, a one-shot clip included; a trim still moves the 1 s grid, so its stills
are up to half a second off the original's, which in moving footage costs 4-14 bits. Two stills are
the same moment (`still_distance`) when, framed alike, both their wholes and their centres are close,
or one's whole is close to the other's centre (a crop): slides in one template have wholes 4-8 bits
apart but centres 12-16 (the words differ), and two moments of one shot differ in the middle too.
The rule (`VideoDedupRules`) asks for one near-identical still (`anchor_distance`), a share of
the stills of the video with fewer that are near enough (`max_distance`), and durations that
allow a copy: the second half of a clip matches the clip fully, still by still, and is another
video (an excerpt), while a trim keeping 75% of it is a copy.

Candidates come from `band_index`: each hash is cut into BANDS 32-bit slices in eight bit orders
(`LAYOUTS`), and the band is the slice's place in its order only, not the still's, so a trimmed copy
whose stills are shifted by any number of seconds meets the original. A pair that meets goes on only
if one of the still pairs that met is within `anchor_distance`; it is then verified on all its stills
(a grid of stills_a x stills_b distances). Dense signatures made 16-bit slices useless at scale: with
~40 hashes a video, unrelated videos met in a 16-bit bucket by chance in 18% of pairs at 970 videos,
and the join grew with the square of the corpus; 32-bit keys are not shared by chance, so the cost per
video stays flat (bench_dedup), for a little recall (0.994 with 16-bit keys, 0.978 now).

Measured (`python -m bench.dedup_videos_set`; defaults below): 97 videos in 9 families (5 real clips
of 5-30 s from shared/realdata/videos, 2 montages of them, 2 synthetic slide decks in one template),
each the source and 8 edits; 324 duplicate pairs (every pair inside a family) and 3717 distinct ones
(3597 across families, 8 first halves against their second halves, 112 halves against full-length
copies of their own video). Precision 1.000 (no false pair); recall 0.978 (317 of 324; 0.864 with
shot middles only). With 16-bit keys recall was 0.994 (the 2 misses: the pancake clip, a one-shot clip
moving fast, cropped against it trimmed and cropped: 2 of its 8 stills match, share 0.25, the closest
pair 8 bits apart); the 32-bit keys miss 5 more pairs of the same clip (its trimmed and cropped copies against
its other edits), whose close stills keep no 32-bit slice intact. Margins, measured with 16-bit keys (each setting alone, the others at their defaults, precision 1.000 and recall
0.994 or better): max_distance 10-14, anchor_distance 6-8 (10: 4 false pairs of slides in one
template), min_share 0.25-0.5, min_matched 2-3, min_duration_ratio 0.6-0.74 (0.5: 76 excerpts
paired; 0.76: the trims lost). Distinct videos came no closer than 10 bits (slides of one template,
the halves of one-shot clips), except the halves of multi-shot clips sharing a shot or a title card
(0-6 bits), which share at most 0.23 of their stills (or one still of two).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from assets.hygiene.band_index import BAND_SCHEMA, meetings
from assets.hygiene.groups import exact_pairs, kept_copies
from assets.hygiene.perceptual_hash import CENTRE_SHARE

HASH_BITS = 64
BANDS = 2  # 32-bit slices: keys unrelated stills do not share by chance
BAND_BITS = HASH_BITS // BANDS

ITEM_SCHEMA = {"item": pl.String, "duration_s": pl.Float64, "hashes": pl.List(pl.UInt64),
               "centres": pl.List(pl.UInt64)}
PAIR_SCHEMA = {"a": pl.String, "b": pl.String, "stills_a": pl.UInt32, "stills_b": pl.UInt32,
               "matched": pl.UInt32, "share": pl.Float64, "closest": pl.UInt32, "duration_ratio": pl.Float64}

# Licences from the most to the least permissive: a duplicate group keeps the copy a release can use
# most freely. Anything not listed (and no licence) ranks after all of them.
LICENCE_ORDER = ("cc0", "public-domain", "cc-by", "cc-by-sa", "cc-by-nc", "cc-by-nc-sa", "cc-by-nd",
                 "cc-by-nc-nd")


class VideoDedupRules(BaseModel):
    """When two signatures are one video. Two thresholds, because a trim moves the 1 s grid the
    stills are taken on: a trimmed copy's stills are then up to half a second off the original's,
    which in moving footage costs up to 14 bits (`still_distance`), more than the 10 that part
    distinct videos' closest stills (slides in one template, two moments of one shot). So a pair
    needs one still that is the same picture (`anchor_distance`), a share of stills that are the
    same moment give or take the grid (`max_distance`), and lengths that allow a copy. Calibrated
    on bench/dedup_videos_set.py (numbers in the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_distance: int = Field(default=12, ge=0, le=HASH_BITS, description="largest `still_distance` (of 64 "
                              "bits) at which two stills count as the same moment, give or take the 1 s grid a "
                              "trim moves; 10-14 calibrate alike")
    anchor_distance: int = Field(default=8, ge=0, le=HASH_BITS, description="at least one pair of stills must be "
                                 "this close (the same picture re-encoded, resized, letterboxed, cropped: measured "
                                 "0-2; a trimmed copy's grid: up to 6); distinct videos' closest were 10 (slides "
                                 "in one template, two halves of a one-shot clip), except halves of a multi-shot "
                                 "clip sharing a shot, which the share rules out")
    min_share: float = Field(default=0.34, gt=0, le=1, description="share of the usable stills of the video with "
                             "fewer that must each have a same-moment still in the other: measured 0.83-1 for "
                             "edits, 0.59-1 for trims (the grid), at most 0.23 for distinct videos with a close "
                             "still")
    min_matched: int = Field(default=2, ge=1, description="matched stills needed at least (all of them when the "
                             "video with fewer has fewer): one shared intro card is not a copy")
    min_duration_ratio: float = Field(default=0.6, ge=0, le=1, description="the shorter video must last at least "
                                      "this share of the longer: a trim keeping 75% is a copy, while half of a "
                                      "video (an excerpt, matching it still by still) is another video")
    min_shared_keys: int = Field(default=1, ge=1, description="32-bit band keys two videos must share to be "
                                 "verified (with one, recall 0.978 on the labelled set; two, 0.951)")

    def describe(self) -> str:
        return (f"near-duplicate videos: one still pair within {self.anchor_distance} of {HASH_BITS} pHash bits, "
                f"and at least {self.min_share:.0%} (and {self.min_matched}, or all) of the usable stills (one a "
                f"second) of the video with fewer within {self.max_distance} bits of a still of the other (bars cut "
                f"off; whole pictures and their central {CENTRE_SHARE:.0%} both, or a whole against a centre), the "
                f"shorter lasting at least {self.min_duration_ratio:.0%} of the longer")


DEFAULT_RULES = VideoDedupRules()


# --- signatures ----------------------------------------------------------------------------------

StillHash = tuple[float, int | None, int | None] | Mapping[str, Any]  # (time_s, whole, centre) or the stored struct


def _still(still: StillHash) -> tuple[float, int | None, int | None]:
    if isinstance(still, Mapping):
        return still["time_s"], still["hash"], still["centre"]
    return still


def signature(still_hashes: Iterable[StillHash]) -> tuple[list[int], list[int | None]]:
    """(hashes, centres) of a video's usable stills in time order, from the dynamism screen's
    `still_hashes` (tuples as `analyse` returns them, or the stored structs). Flat stills are left out;
    equal hash pairs count once, so a still repeated does not weigh twice in the share that must match."""
    seen: dict[tuple[int, int | None], None] = {}
    for _, whole, centre in sorted((_still(s) for s in still_hashes), key=lambda s: s[0]):
        if whole is not None:
            seen.setdefault((int(whole), None if centre is None else int(centre)))
    return [w for w, _ in seen], [c for _, c in seen]


def item_row(item: str, duration_s: float | None, still_hashes: Iterable[StillHash] | None
             ) -> tuple[str, float | None, list[int], list[int | None]]:
    """One ITEM_SCHEMA row (item, duration_s, hashes, centres) from a video's stored `still_hashes`."""
    return (item, duration_s, *signature(still_hashes or []))


def items_frame(rows: Iterable[tuple[str, float | None, list[int], list[int | None]]]) -> pl.DataFrame:
    """(item, duration_s, hashes, centres) rows (`item_row`) as the frame `near_duplicates` reads."""
    return pl.DataFrame(list(rows), schema=ITEM_SCHEMA, orient="row")


# --- candidates and verification ----------------------------------------------------------------

def _layouts() -> np.ndarray:
    """Bit orders the hash is cut in: as stored (BAND_BITS neighbouring bits: four rows of the 8x8
    DCT), interleaved (every BANDS-th bit), and EXTRA_LAYOUTS seeded permutations. A key is 32 bits,
    so unrelated stills almost never share one by chance, however many videos the index holds (16-bit
    keys met by chance in ~18% of unrelated video pairs at 970 videos, and the join grew with the square
    of the corpus); a copy's still a few bits off keeps some 32-bit slice intact in one of eight orders
    (labelled set: recall 0.978 with 8 layouts, 0.957 with the first two)."""
    rows = np.arange(HASH_BITS)
    columns = np.array([b + BANDS * j for b in range(BANDS) for j in range(BAND_BITS)])
    rng = np.random.default_rng(LAYOUT_SEED)
    return np.stack([rows, columns, *(rng.permutation(HASH_BITS) for _ in range(EXTRA_LAYOUTS))])


LAYOUT_SEED, EXTRA_LAYOUTS = 0, 6
LAYOUTS = _layouts()


def band_keys(hashes: Sequence[int] | np.ndarray) -> np.ndarray:
    """(n, layouts * BANDS) keys: column layout * BANDS + b holds band b's BAND_BITS bits in that layout."""
    values = np.asarray(hashes, dtype=np.uint64).astype(">u8")
    bits = np.unpackbits(values.view(np.uint8).reshape(-1, 8), axis=1)
    weights = np.uint64(1) << np.arange(BAND_BITS - 1, -1, -1, dtype=np.uint64)
    keys = [bits[:, order[b * BAND_BITS:(b + 1) * BAND_BITS]].astype(np.uint64) @ weights
            for order in LAYOUTS for b in range(BANDS)]
    return np.stack(keys, axis=1) if keys else np.zeros((0, 0), np.uint64)


def band_frame(items: pl.DataFrame, with_hash: bool = False) -> pl.DataFrame:
    """`band_index` rows of every whole and centre hash: the band is the slice's place in its layout
    only, not the still's, so stills meet whatever shot they are in; the key is the slice's bits.
    `with_hash` keeps the hash each row came from (`h`), for `candidates`."""
    hashes = (items.select("item", pl.concat_list("hashes", "centres").alias("h")).explode("h")
              .drop_nulls("h"))
    keys = band_keys(hashes["h"].to_numpy())
    width = len(LAYOUTS) * BANDS
    rows = pl.DataFrame({
        "item": np.repeat(hashes["item"].to_numpy(), width),
        "band": np.tile(np.arange(width, dtype=np.int32), hashes.height),
        "key": keys.reshape(-1),
        **({"h": np.repeat(hashes["h"].to_numpy(), width)} if with_hash else {}),
    }, schema={**BAND_SCHEMA, **({"h": pl.UInt64} if with_hash else {})})
    return rows.unique()


def candidates(items: pl.DataFrame, index_bands: pl.DataFrame | None, rules: VideoDedupRules) -> pl.DataFrame:
    """The pairs worth verifying: they meet in at least `min_shared_keys` buckets, and one of the still
    pairs that meet lies within `anchor_distance` (the rule needs one such pair; checking the pairs the
    buckets already join costs a popcount each, where verifying compares every still with every still).
    `index_bands` are the index's `band_frame(..., with_hash=True)` rows, as stored with it."""
    met = meetings(band_frame(items, with_hash=True), index_bands)
    if not met.height:
        return pl.DataFrame(schema={"a": pl.String, "b": pl.String})
    distance = pl.Series(_popcount((met["h"] ^ met["h_b"]).to_numpy()))
    return (met.with_columns(distance.alias("d"))
            .group_by("a", "b").agg(pl.struct("band", "key").n_unique().alias("shared"), pl.col("d").min())
            .filter((pl.col("shared") >= rules.min_shared_keys) & (pl.col("d") <= rules.anchor_distance))
            .select("a", "b").sort("a", "b"))


def _popcount(values: np.ndarray) -> np.ndarray:
    return np.unpackbits(values.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1).astype(np.uint8)


def _long(items: pl.DataFrame, side: str) -> pl.DataFrame:
    """One row per usable still: (item, still number, whole hash, centre hash), suffixed by side."""
    return (items.select("item", "hashes", "centres").explode(["hashes", "centres"]).drop_nulls("hashes")
            .with_columns(pl.int_range(pl.len()).over("item").alias("still"))
            .rename({"item": side, "still": f"still_{side}", "hashes": f"w_{side}", "centres": f"c_{side}"}))


def _distance(x: str, y: str) -> pl.Expr:
    return pl.col(x).xor(pl.col(y)).bitwise_count_ones()


def still_distance() -> pl.Expr:
    """How far two stills (w_a, c_a) and (w_b, c_b) are: framed alike, both their wholes and their centres
    must be close (the larger counts; the whole alone where a centre is flat), since pictures in one
    template or moments of one shot share their layout but not the detail in the middle; or one's
    whole is close to the other's centre (a crop of one is the other's centre)."""
    framed_alike = pl.max_horizontal(_distance("w_a", "w_b"), _distance("c_a", "c_b"))
    return pl.min_horizontal(framed_alike, _distance("w_a", "c_b"), _distance("c_a", "w_b"))


def still_matches(pairs: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Per candidate pair, every still of each side against every still of the other (`still_distance`)."""
    grid = (pairs.join(_long(items, "a"), on="a").join(_long(items, "b"), on="b")
            .with_columns(still_distance().alias("distance")))
    return grid.select("a", "b", "still_a", "still_b", "distance")


def verify(pairs: pl.DataFrame, items: pl.DataFrame, rules: VideoDedupRules = DEFAULT_RULES) -> pl.DataFrame:
    """Measured similarity of candidate (a, b) pairs (PAIR_SCHEMA), all of them, duplicates or not:
    `share` is the matched share of the side with fewer usable stills (the larger share on a tie)."""
    if not pairs.height:
        return pl.DataFrame(schema=PAIR_SCHEMA)
    grid = still_matches(pairs, items)
    near = pl.col("distance").min() <= rules.max_distance
    closest = grid.group_by("a", "b").agg(pl.col("distance").min().alias("closest"))
    side_a = grid.group_by("a", "b", "still_a").agg(near.alias("hit")).group_by("a", "b").agg(
        pl.col("hit").sum().alias("matched_a"))
    side_b = grid.group_by("a", "b", "still_b").agg(near.alias("hit")).group_by("a", "b").agg(
        pl.col("hit").sum().alias("matched_b"))
    sizes = items.select("item", "duration_s", pl.col("hashes").list.len().alias("n"))
    out = (pairs.join(side_a, on=["a", "b"], how="left").join(side_b, on=["a", "b"], how="left")
           .join(closest, on=["a", "b"], how="left")
           .join(sizes.rename({"item": "a", "duration_s": "da", "n": "stills_a"}), on="a")
           .join(sizes.rename({"item": "b", "duration_s": "db", "n": "stills_b"}), on="b")
           .with_columns(pl.col("matched_a", "matched_b").fill_null(0)))
    share_a = pl.col("matched_a") / pl.col("stills_a")
    share_b = pl.col("matched_b") / pl.col("stills_b")
    a_fewer = (pl.col("stills_a") < pl.col("stills_b")) | ((pl.col("stills_a") == pl.col("stills_b"))
                                                          & (share_a >= share_b))
    return out.select(
        "a", "b", "stills_a", "stills_b",
        pl.when(a_fewer).then(pl.col("matched_a")).otherwise(pl.col("matched_b")).alias("matched"),
        pl.when(a_fewer).then(share_a).otherwise(share_b).round(6).alias("share"), "closest",
        (pl.min_horizontal("da", "db") / pl.max_horizontal("da", "db")).fill_nan(None).round(6)
        .alias("duration_ratio"),
    ).cast(PAIR_SCHEMA)


def is_duplicate(rules: VideoDedupRules = DEFAULT_RULES) -> pl.Expr:
    """The rule on verified pairs (a missing duration does not veto)."""
    fewer = pl.min_horizontal("stills_a", "stills_b")
    return ((pl.col("share") >= rules.min_share) & (pl.col("matched") >= pl.min_horizontal(rules.min_matched, fewer))
            & (pl.col("closest") <= rules.anchor_distance)
            & pl.col("duration_ratio").fill_null(1.0).ge(rules.min_duration_ratio))


def near_duplicates(items: pl.DataFrame, index: pl.DataFrame | None = None,
                    rules: VideoDedupRules = DEFAULT_RULES, index_bands: pl.DataFrame | None = None) -> pl.DataFrame:
    """Verified near-duplicate pairs (PAIR_SCHEMA) among `items` (ITEM_SCHEMA) and between `items`
    and `index` (earlier items, same schema): `a` is always from `items`. The index's items are
    never compared with each other, so a new shard costs its own size, not the corpus's; pass the
    index's band rows as stored (`index_bands`) and they are not cut again."""
    items = items.cast(ITEM_SCHEMA).select(ITEM_SCHEMA.keys())
    index = index.cast(ITEM_SCHEMA).select(ITEM_SCHEMA.keys()) if index is not None and index.height else None
    if index_bands is None and index is not None:
        index_bands = band_frame(index, with_hash=True)
    proposed = candidates(items, index_bands, rules)
    known = items if index is None else pl.concat([items, index.filter(~pl.col("item").is_in(items["item"]))])
    return verify(proposed, known, rules).filter(is_duplicate(rules)).sort("a", "b")


# --- groups and the copy each keeps -------------------------------------------------------------

def licence_rank(licence: str | None) -> int:
    """Position in LICENCE_ORDER of a licence as written anywhere ("CC-BY", "cc by-sa 4.0",
    "creativeCommon"); unknown licences rank last."""
    if not licence:
        return len(LICENCE_ORDER)
    text = licence.strip().lower().replace("_", "-").replace(" ", "-")
    if text.startswith("creativecommon"):  # YouTube's own word for CC-BY 3.0
        text = "cc-by"
    version_free = "-".join(p for p in text.split("-") if not p[:1].isdigit())
    return LICENCE_ORDER.index(version_free) if version_free in LICENCE_ORDER else len(LICENCE_ORDER)


def kept_copy(records: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Which record each duplicate group keeps. `records`: item, duration_s, width, height,
    landed_at, and `licence` (ranked by `licence_rank`) or `licence_rank` (smaller is better), and
    optionally sha256 (equal hashes join a group whatever the stills say). A group (connected
    components of `pairs` and the hash pairs: a copy of a copy belongs with the original) keeps the
    longest copy (the others lost footage to a trim; to the whole second, since a re-encode may end a
    few frames later), then the most pixels (the others were scaled down), then the best licence,
    then the earliest landed, then the smallest id; a missing value ranks last. Returns `records`
    with `kept` (the kept record's id; its own for the kept one),
    `group` and `group_size`."""
    licence = (pl.col("licence_rank").fill_null(len(LICENCE_ORDER)) if "licence_rank" in records.columns
               else pl.col("licence").map_elements(licence_rank, return_dtype=pl.Int64,
                                                   skip_nulls=False))
    keys = {"_duration": pl.col("duration_s").cast(pl.Float64).round(0).fill_null(-1.0),
            "_pixels": (pl.col("width").cast(pl.Int64) * pl.col("height").cast(pl.Int64)).fill_null(-1),
            "_licence": licence, "_unlanded": pl.col("landed_at").is_null(), "_landed": pl.col("landed_at")}
    links = pairs.select("a", "b")
    if "sha256" in records.columns:
        links = pl.concat([links, exact_pairs(records)])
    out = kept_copies(records.with_columns(**keys), links, list(keys), descending=[True, True, False, False, False])
    return (out.with_columns(pl.coalesce("duplicate_of", "item").alias("kept"))
            .drop(*keys, "duplicate_of"))
