"""The B-frame skip proof against the decoder itself: wherever `GopReferences` says a GOP's B-frames
can be skipped, decoding it with `skip_frame=BIDIR` gives every remaining picture bit for bit as the
decode that keeps them; where B-frames are referenced (x264 with several references), it says no,
and skipping them there would indeed change pictures."""

import hashlib
import subprocess

import imageio_ffmpeg
import pytest

from assets.finevideo.h264_references import GopReferences, _Bits, _rbsp

ENCODES = {  # x264 settings web video is made with, and the ones that break a B skip
    "veryfast": ["-preset", "veryfast"],  # B-pyramid, one reference: P never refers to a B
    "medium": ["-preset", "medium"],  # three references: P refers to the pyramid's B
    "strict_pyramid": ["-preset", "veryfast", "-x264-params", "b-pyramid=strict"],
    "open_gop": ["-preset", "veryfast", "-x264-params", "open-gop=1"],
    "no_b": ["-preset", "veryfast", "-bf", "0"],
    "slices": ["-preset", "veryfast", "-x264-params", "slices=3"],
    "weighted": ["-preset", "veryfast", "-x264-params", "weightp=2:ref=1"],
    "five_b": ["-preset", "veryfast", "-x264-params", "b-adapt=0:bframes=5:b-pyramid=none"],
}


@pytest.fixture(scope="module")
def encodes(tmp_path_factory):
    d = tmp_path_factory.mktemp("h264")
    out = {}
    for name, options in ENCODES.items():
        path = d / f"{name}.mp4"
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                        "testsrc2=size=192x108:rate=25", "-t", "12", "-g", "50", "-pix_fmt", "yuv420p", "-c:v",
                        "libx264", "-threads", "1", *options, str(path)], check=True)
        out[name] = path
    return out


def _gops(path):
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        refs, gops, gop = GopReferences(stream.codec_context.extradata), [], []
        for p in c.demux(stream):
            if not p.size:
                continue
            if p.is_keyframe and gop:
                gops.append((gop, bytes(p)))
                gop = []
            gop.append((p.pts, bytes(p)))
        gops.append((gop, None))
    return refs, gops


def _pictures(path, skip):
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "NONE"
        stream.codec_context.options = {"skip_loop_filter": "all"}
        stream.codec_context.skip_frame = skip
        return {f.pts: hashlib.md5(b"".join(bytes(p) for p in f.planes)).hexdigest()
                for p in c.demux(stream) if p.size for f in stream.codec_context.decode(p)}


def _proven(path, max_gap=3):
    refs, gops = _gops(path)
    proven, refused = set(), set()
    for gop, following in gops:
        ok = refs.b_pictures_unreferenced(gop, following is None or refs.starts_idr(following), max_gap)
        (proven if ok else refused).update(pts for pts, _ in gop)
    return proven, refused


@pytest.mark.parametrize("name", list(ENCODES))
def test_where_the_skip_is_proven_every_decoded_picture_is_exact(encodes, name):
    proven, refused = _proven(encodes[name])
    kept, skipped = _pictures(encodes[name], "NONREF"), _pictures(encodes[name], "BIDIR")
    assert set(skipped) <= set(kept)
    assert list(skipped) == sorted(skipped)  # made-up gap pictures do not upset the output order
    assert all(skipped[pts] == kept[pts] for pts in skipped if pts in proven)
    changed = {pts for pts in skipped if skipped[pts] != kept[pts]}
    if name in ("veryfast", "strict_pyramid", "slices", "weighted", "no_b"):
        assert len(proven) > len(refused)  # the proof holds where it should, not only vacuously
    if name == "medium":
        assert changed and changed <= refused  # the skip would change pictures, and it was refused
    if name == "open_gop":
        assert not proven  # a later GOP may refer back past a non-IDR keyframe
    if name == "five_b":
        assert not proven  # five frames in a row unseen: more than a cut may be late by
        proven_wider, _ = _proven(encodes[name], max_gap=5)
        assert proven_wider and all(skipped[pts] == kept[pts] for pts in skipped if pts in proven_wider)


def test_unreadable_parameter_sets_or_packets_are_a_no_not_an_error(encodes):
    refs, gops = _gops(encodes["veryfast"])
    gop, following = gops[0]
    assert refs.b_pictures_unreferenced(gop, True, 3)
    broken = GopReferences(bytes([1, 100, 0, 30, 0xFF, 0xE1, 0, 40]) + b"\x67" + bytes(3))  # an SPS cut short
    assert not broken.b_pictures_unreferenced(gop, True, 3)
    garbage = [(pts, bytes(len(data))) for pts, data in gop]  # zeroed packets: NAL lengths of 0
    assert not refs.b_pictures_unreferenced(garbage, True, 3)
    assert not refs.b_pictures_unreferenced([(pts, data[:7]) for pts, data in gop], True, 3)  # cut packets


def test_exp_golomb_codes_and_emulation_prevention():
    # 1 -> 0; 010 -> 1; 011 -> 2; 00100 -> 3; as se: 0, +1, -1, +2
    bits = _Bits(bytes([0b10100110, 0b01000000]))
    assert [bits.ue(), bits.ue(), bits.ue(), bits.ue()] == [0, 1, 2, 3]
    bits = _Bits(bytes([0b10100110, 0b01000000]))
    assert [bits.se(), bits.se(), bits.se(), bits.se()] == [0, 1, -1, 2]
    # a NAL header byte, then 00 00 03 01: the 03 is the encoder's escape, not data
    assert _rbsp(bytes([0x65, 0, 0, 3, 1, 0, 0, 3, 0])) == bytes([0, 0, 1, 0, 0, 0])
