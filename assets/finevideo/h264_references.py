"""Whether an H.264 GOP's B pictures can be left undecoded without changing any other picture.

A decoder told to skip B pictures (`skip_frame=BIDIR`) conceals a missing reference silently, so
where a P slice refers to a reference B picture (x264's default B-pyramid with more than one
reference does that) the P picture comes out tens of grey levels off, with no error flag. This
module settles the question from the bitstream alone, before decoding: it reads the slice headers of
a GOP that starts at an IDR picture, keeps the reference pictures the decoder would hold (sliding
window and memory-management commands), builds every P slice's reference list as the standard
does (default order, then the list's modifications, cut to its active length) and answers yes only
when no P slice's list holds a B picture and the next GOP starts at an IDR picture too (an IDR
picture empties the decoder's references, so nothing later can refer back). Anything it does not
follow (fields, long-term references, slice groups, frame-number gaps, an unknown parameter set, a
mixed picture) is a no: the caller then decodes every reference picture, as before.

Only the headers' first bytes are read (HEADER_BYTES per slice, emulation bytes removed),
so the check costs a few microseconds a picture next to the milliseconds it saves.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADER_BYTES = 256  # of a slice NAL: past dec_ref_pic_marking even with a weight table for 32 references
HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
P, B, SP = 0, 1, 3  # slice_type % 5 (2: I, 4: SI)


class Unsupported(Exception):
    """A stream feature this reading does not follow: the answer is then no."""


class _Bits:
    def __init__(self, rbsp: bytes):
        self._value = int.from_bytes(rbsp, "big")
        self._left = len(rbsp) * 8

    def u(self, n: int) -> int:
        if n > self._left:
            raise Unsupported("header runs past the bytes read")
        self._left -= n
        return (self._value >> self._left) & ((1 << n) - 1)

    def ue(self) -> int:
        rest = self._value & ((1 << self._left) - 1)
        zeros = self._left - rest.bit_length()
        if zeros >= 32 or rest == 0:
            raise Unsupported("bad exp-Golomb code")
        self._left -= zeros
        return self.u(zeros + 1) - 1

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def _rbsp(nal, limit: int | None = None) -> bytes:
    """The NAL's payload after its header byte, emulation-prevention bytes removed."""
    data = bytes(nal[1:] if limit is None else nal[1:limit])
    if b"\x00\x00\x03" not in data:
        return data
    out, zeros = bytearray(), 0
    for byte in data:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


@dataclass(frozen=True)
class _Sps:
    log2_max_frame_num: int
    poc_type: int
    log2_max_poc_lsb: int
    delta_pic_order_always_zero: bool
    max_num_ref_frames: int
    frame_mbs_only: bool
    separate_colour_plane: bool
    chroma_array_type: int


@dataclass(frozen=True)
class _Pps:
    sps_id: int
    bottom_field_pic_order_in_frame_present: bool
    num_ref_idx_default: tuple[int, int]
    weighted_pred: bool
    weighted_bipred_idc: int
    redundant_pic_cnt_present: bool


def _scaling_list(r: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + r.se()) % 256
            last = nxt or last


def _parse_sps(nal: bytes) -> tuple[int, _Sps]:
    r = _Bits(_rbsp(nal))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    sps_id = r.ue()
    chroma_format, separate = 1, False
    if profile in HIGH_PROFILES:
        chroma_format = r.ue()
        if chroma_format == 3:
            separate = bool(r.u(1))
        r.ue(), r.ue(), r.u(1)  # bit depths, qpprime_y_zero_transform_bypass
        if r.u(1):  # seq_scaling_matrix_present
            for i in range(8 if chroma_format != 3 else 12):
                if r.u(1):
                    _scaling_list(r, 16 if i < 6 else 64)
    log2_max_frame_num = r.ue() + 4
    poc_type, log2_max_poc_lsb, always_zero = r.ue(), 0, False
    if poc_type == 0:
        log2_max_poc_lsb = r.ue() + 4
    elif poc_type == 1:
        always_zero = bool(r.u(1))
        r.se(), r.se()
        for _ in range(r.ue()):
            r.se()
    max_refs = r.ue()
    r.u(1)  # gaps_in_frame_num_value_allowed: a gap is refused below either way
    r.ue(), r.ue()  # picture size in macroblocks
    frame_mbs_only = bool(r.u(1))
    return sps_id, _Sps(log2_max_frame_num, poc_type, log2_max_poc_lsb, always_zero, max_refs, frame_mbs_only,
                        separate, 0 if separate else chroma_format)


def _parse_pps(nal: bytes) -> tuple[int, _Pps]:
    r = _Bits(_rbsp(nal))
    pps_id, sps_id = r.ue(), r.ue()
    r.u(1)  # entropy_coding_mode
    bottom = bool(r.u(1))
    if r.ue():
        raise Unsupported("slice groups")
    defaults = (r.ue() + 1, r.ue() + 1)
    weighted_pred, bipred = bool(r.u(1)), r.u(2)
    r.se(), r.se(), r.se()  # pic_init_qp, pic_init_qs, chroma_qp_index_offset
    r.u(1), r.u(1)  # deblocking_filter_control_present, constrained_intra_pred
    return pps_id, _Pps(sps_id, bottom, defaults, weighted_pred, bipred, bool(r.u(1)))


@dataclass(frozen=True)
class _Slice:
    kind: int  # slice_type % 5
    first_mb: int
    frame_num: int
    idr: bool
    ref_idc: int
    active_l0: int
    modifications: tuple[tuple[int, int], ...]  # list 0: (modification_of_pic_nums_idc, value)
    mmco: tuple[tuple[int, int], ...]  # (operation, difference_of_pic_nums_minus1 or 0)
    adaptive: bool
    sps: _Sps


def _parse_slice(nal, sps: dict[int, _Sps], pps: dict[int, _Pps]) -> _Slice:
    ref_idc, idr = (nal[0] >> 5) & 3, (nal[0] & 0x1F) == 5
    r = _Bits(_rbsp(nal, HEADER_BYTES))
    first_mb, kind = r.ue(), r.ue() % 5
    p = pps.get(r.ue())
    s = sps.get(p.sps_id) if p is not None else None
    if s is None:
        raise Unsupported("a slice refers to a parameter set not seen")
    if s.separate_colour_plane:
        r.u(2)
    frame_num = r.u(s.log2_max_frame_num)
    if not s.frame_mbs_only and r.u(1):
        raise Unsupported("field pictures")
    if idr:
        r.ue()
    if s.poc_type == 0:
        r.u(s.log2_max_poc_lsb)
        if p.bottom_field_pic_order_in_frame_present:
            r.se()
    elif s.poc_type == 1 and not s.delta_pic_order_always_zero:
        r.se()
        if p.bottom_field_pic_order_in_frame_present:
            r.se()
    if p.redundant_pic_cnt_present and r.ue():
        raise Unsupported("redundant pictures")
    if kind == B:
        r.u(1)  # direct_spatial_mv_pred
    active = list(p.num_ref_idx_default)
    if kind in (P, SP, B) and r.u(1):
        active[0] = r.ue() + 1
        if kind == B:
            active[1] = r.ue() + 1
    lists: list[tuple[tuple[int, int], ...]] = []
    for _ in range({P: 1, SP: 1, B: 2}.get(kind, 0)):
        ops = []
        if r.u(1):
            while (idc := r.ue()) != 3:
                if idc > 2:
                    raise Unsupported("bad reference list modification")
                ops.append((idc, r.ue()))
        lists.append(tuple(ops))
    if (p.weighted_pred and kind in (P, SP)) or (p.weighted_bipred_idc == 1 and kind == B):
        r.ue()
        if s.chroma_array_type:
            r.ue()
        for count in active[: 2 if kind == B else 1]:
            for _ in range(count):
                if r.u(1):
                    r.se(), r.se()
                if s.chroma_array_type and r.u(1):
                    r.se(), r.se(), r.se(), r.se()
    mmco, adaptive = [], False
    if ref_idc:
        if idr:
            r.u(1)
            if r.u(1):
                raise Unsupported("long-term references")
        elif r.u(1):
            adaptive = True
            while (op := r.ue()) != 0:
                if op != 1:
                    raise Unsupported(f"memory management operation {op}")
                mmco.append((op, r.ue()))
    return _Slice(kind, first_mb, frame_num, idr, ref_idc, active[0], lists[0] if lists else (), tuple(mmco), adaptive,
                  s)


def _nals(packet, length_size: int | None):
    """The NAL units of one packet (bytes or a memoryview of it, sliced without copying):
    length-prefixed (avcC) or Annex B start codes."""
    if length_size:
        at, end = 0, len(packet)
        while at + length_size <= end:
            n = int.from_bytes(packet[at: at + length_size], "big")
            at += length_size
            if n <= 0 or at + n > end:
                raise Unsupported("a NAL length past the packet")
            yield packet[at: at + n]
            at += n
        return
    for chunk in bytes(packet).split(b"\x00\x00\x01"):
        chunk = chunk.rstrip(b"\x00")
        if chunk:
            yield chunk


class GopReferences:
    """Reads the parameter sets (the stream's avcC extradata, then any in-band) and answers, per GOP,
    whether skipping its B pictures leaves every other picture exact (`b_pictures_unreferenced`)."""

    def __init__(self, extradata: bytes | None):
        self._sps: dict[int, _Sps] = {}
        self._pps: dict[int, _Pps] = {}
        self._length_size: int | None = None
        self._readable = True
        try:
            self._read_extradata(bytes(extradata or b""))
        except (Unsupported, IndexError, ValueError):
            self._readable = False  # parameter sets it cannot read: every answer is no

    def _read_extradata(self, data: bytes) -> None:
        if len(data) >= 7 and data[0] == 1:  # avcC
            self._length_size = (data[4] & 3) + 1
            at, count = 6, data[5] & 0x1F
            for kind in ("sps", "pps"):
                for _ in range(count):
                    n = int.from_bytes(data[at: at + 2], "big")
                    self._parameter_set(data[at + 2: at + 2 + n])
                    at += 2 + n
                if kind == "sps" and at < len(data):
                    count, at = data[at], at + 1
        elif data:
            for nal in _nals(data, None):
                self._parameter_set(nal)

    def _parameter_set(self, nal: bytes) -> bool:
        kind = nal[0] & 0x1F if nal else 0
        if kind == 7:
            sps_id, sps = _parse_sps(nal)
            self._sps[sps_id] = sps
        elif kind == 8:
            pps_id, pps = _parse_pps(nal)
            self._pps[pps_id] = pps
        return kind in (7, 8)

    def starts_idr(self, packet: bytes) -> bool:
        try:
            return any(nal[0] & 0x1F == 5 for nal in _nals(packet, self._length_size) if nal)
        except Unsupported:
            return False

    def b_pictures_unreferenced(self, gop: list[tuple[int | None, bytes]], next_idr: bool,
                                max_gap: int) -> bool:
        """`gop`: (pts, data) of its packets in decode order, from its keyframe; `next_idr`: the next GOP
        starts at an IDR picture (or the stream ends). Yes when, with its B and non-reference pictures
        skipped, every other picture decodes exactly as before, and no more than `max_gap` pictures
        in presentation order are skipped in a row (what is left to look at is at most that many
        frames apart)."""
        if not next_idr or not gop or not self._readable:
            return False
        try:
            kept = self._walk(gop)
        except (Unsupported, IndexError, KeyError, ValueError):
            return False
        if kept is None:
            return False
        run = longest = 0
        for _, decoded in sorted(kept):
            run = 0 if decoded else run + 1
            longest = max(longest, run)
        return longest <= max_gap

    def _walk(self, gop: list[tuple[int | None, bytes]]) -> list[tuple[int, bool]] | None:
        """Every picture's (pts, whether a B skip still decodes it), or None when a decoded picture
        could come out otherwise.

        Two sets of short-term references are kept: the stream's (`exact`), and the one a decoder
        skipping B pictures holds (`skipping`). That decoder never sees a skipped reference picture:
        before the next picture it decodes it fills the frame-number gap with made-up pictures, each
        marked by the sliding window, so a skipped picture's own marking commands never run. A
        decoded picture is exact when each of its P slices' lists names the same frame numbers in
        both, none of them a B picture."""
        exact: list[tuple[int, bool]] = []  # (frame_num, is B)
        skipping: list[tuple[int, bool]] = []  # (frame_num, made up)
        kept: list[tuple[int, bool]] = []
        last_ref = last_decoded = None  # frame_num of the last reference picture, and of the last one decoded
        for pts, packet in gop:
            slices, unreferenced = [], False
            for nal in _nals(packet, self._length_size):
                if not nal or self._parameter_set(nal):
                    continue
                kind = nal[0] & 0x1F
                if kind == 1 and not nal[0] & 0x60:
                    unreferenced = True  # skipped either way, and no reference depends on it: not read
                elif kind in (1, 5):
                    slices.append(_parse_slice(nal, self._sps, self._pps))
                elif kind in (14, 20, 21):
                    raise Unsupported("scalable or multiview extensions")
            if unreferenced and not slices:
                if pts is None or not kept:
                    return None  # no timestamp, or a GOP that does not start at its IDR picture
                kept.append((pts, False))
                continue
            if not slices:
                continue
            head = slices[0]
            if pts is None or head.first_mb != 0 or (not kept and not head.idr):
                return None  # no timestamp, a picture split over packets, or no IDR to start from
            if any((s.kind == B) != (head.kind == B) or s.frame_num != head.frame_num for s in slices):
                return None  # B and other slices in one picture: a B skip would leave part of it
            max_frame_num = 1 << head.sps.log2_max_frame_num
            decoded = head.ref_idc != 0 and head.kind != B
            if head.idr:
                exact, skipping, last_decoded, last_ref = [], [], None, None
            elif last_ref is not None and head.frame_num not in (last_ref, (last_ref + 1) % max_frame_num):
                return None  # a gap in the stream itself: the decoder would make up pictures anyway
            if decoded and last_decoded is not None:
                for k in range((head.frame_num - last_decoded - 1) % max_frame_num):
                    made_up = _Slice(P, 0, (last_decoded + 1 + k) % max_frame_num, False, 1, 0, (), (), False,
                                     head.sps)
                    self._mark(made_up, skipping, max_frame_num)
                    skipping[-1] = (skipping[-1][0], True)
            for s in slices:
                if decoded and s.kind in (P, SP):
                    want = self._list0(s, exact, max_frame_num)
                    got = self._list0(s, skipping, max_frame_num)
                    if any(is_b for _, is_b in want) or [f for f, _ in want] != [f for f, _ in got]:
                        return None
            kept.append((pts, decoded))
            if head.ref_idc:
                last_ref = head.frame_num
                self._mark(head, exact, max_frame_num)
                if decoded:
                    self._mark(head, skipping, max_frame_num)
                    last_decoded = head.frame_num
        return kept

    @staticmethod
    def _list0(s: _Slice, refs: list[tuple[int, bool]], max_frame_num: int) -> list[tuple[int, bool]]:
        """The slice's active list 0 as (frame_num, flag): short-term references by descending
        PicNum, then its modifications (8.2.4.3.1), cut to its active length."""
        def pic_num(frame_num: int) -> int:
            return frame_num - max_frame_num if frame_num > s.frame_num else frame_num

        held = sorted(refs, key=lambda r: pic_num(r[0]), reverse=True)
        order = list(held)
        pred = s.frame_num  # CurrPicNum
        for index, (idc, value) in enumerate(s.modifications):
            if idc == 2:
                raise Unsupported("long-term references")
            no_wrap = pred - (value + 1) if idc == 0 else pred + (value + 1)
            no_wrap += max_frame_num if no_wrap < 0 else -max_frame_num if no_wrap >= max_frame_num else 0
            pred = no_wrap
            target = no_wrap - max_frame_num if no_wrap > s.frame_num else no_wrap
            picked = [h for h in held if pic_num(h[0]) == target]
            if not picked:
                raise Unsupported("a modification names a picture not held")
            order = [*order[:index], picked[0], *[h for h in order[index:] if pic_num(h[0]) != target]]
        return order[: s.active_l0]

    @staticmethod
    def _mark(s: _Slice, refs: list[tuple[int, bool]], max_frame_num: int) -> None:
        """Decoded reference picture marking (8.2.5), frames with short-term references only: the
        picture's memory-management commands, else the sliding window."""
        def pic_num(frame_num: int) -> int:
            return frame_num - max_frame_num if frame_num > s.frame_num else frame_num

        if s.adaptive:
            for _, diff in s.mmco:  # operation 1: drop a short-term reference
                refs[:] = [r for r in refs if pic_num(r[0]) != s.frame_num - (diff + 1)]
        elif len(refs) >= max(1, s.sps.max_num_ref_frames):
            refs.remove(min(refs, key=lambda r: pic_num(r[0])))
        refs.append((s.frame_num, s.kind == B))
