"""How far a PDF's encoded streams decode, counted before PDFium opens it.

A decompression bomb is a small PDF (a few MB) whose streams decode to gigabytes: PDFium decodes a
stream whole when it extracts text or renders, so one such file took 7.8 GB and a SIGABRT, losing
its shard's rows. Each stream's `/Filter` chain (Flate, LZW, RunLength, ASCIIHex, ASCII85, in
order, nested ones included: `[/FlateDecode /FlateDecode]`, `[/ASCIIHexDecode /FlateDecode]`) is
decoded here with a budget: every stage's output counts, and decoding stops as soon as the
document's total passes the cap, so measuring a bomb costs about the cap in CPU and never more than
the cap in memory. Image codecs (DCT, JPX, CCITT, JBIG2) end a chain: PDFium decodes them only to
render, at the page's size. A stream that fails to decode counts what it gave; PDFium judges it.
"""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)")
_NAME = re.compile(rb"/([A-Za-z0-9]+)")
_ALIASES = {"Fl": "FlateDecode", "AHx": "ASCIIHexDecode", "A85": "ASCII85Decode", "LZW": "LZWDecode",
            "RL": "RunLengthDecode"}
_STEP = 1 << 20
_DICT_WINDOW = 4096  # how far before `stream` the stream's dictionary is looked for


class _Over(Exception):
    """The budget is spent."""


def inflated_bytes(pdf: bytes, cap: int) -> int:
    """Bytes the PDF's stream filters decode to, every stage counted; once past `cap`, the count
    so far (just over `cap`)."""
    total = 0
    for match in _STREAM.finditer(pdf):
        head = pdf[max(0, match.start() - _DICT_WINDOW): match.start()]
        head = head[head.rfind(b"obj") + 1:]  # this object's dictionary, not an earlier one's
        filters = _filters(head)
        if not filters:
            continue
        end = pdf.find(b"endstream", match.end())
        data = pdf[match.end(): end if end >= 0 else len(pdf)]
        try:
            for i, name in enumerate(filters):
                last = i == len(filters) - 1
                data, n = _DECODERS[name](data, cap - total, not last)
                total += n
        except _Over:
            return cap + 1
        except (zlib.error, ValueError, IndexError, KeyError):
            continue
    return total


def _filters(head: bytes) -> list[str]:
    found = _FILTER.findall(head)
    if not found:
        return []
    names = [_ALIASES.get(n.decode("latin-1"), n.decode("latin-1")) for n in _NAME.findall(found[-1])]
    known = []
    for n in names:  # a chain is followed up to the first filter that is not a byte codec
        if n not in _DECODERS:
            break
        known.append(n)
    return known


def _flate(data: bytes, budget: int, keep: bool) -> tuple[bytes, int]:
    d, out, n = zlib.decompressobj(), [], 0
    chunk = data
    while chunk:
        piece = d.decompress(chunk, _STEP)
        n += len(piece)
        if n > budget:
            raise _Over
        if keep:
            out.append(piece)
        if d.eof:
            break
        chunk = d.unconsumed_tail
    return b"".join(out), n


def _hex(data: bytes, budget: int, keep: bool) -> tuple[bytes, int]:
    text = re.sub(rb"\s", b"", data.split(b">", 1)[0])
    if len(text) % 2:
        text += b"0"
    out = bytes.fromhex(text.decode("ascii"))
    return _checked(out, budget)


def _a85(data: bytes, budget: int, keep: bool) -> tuple[bytes, int]:
    text = data.split(b"~>", 1)[0].strip()
    if text.startswith(b"<~"):
        text = text[2:]
    if text.count(b"z") * 4 > budget:  # each `z` is four zero bytes
        raise _Over
    return _checked(base64.a85decode(text + b"~>", adobe=False, ignorechars=b" \t\n\r\x0b\x0c~>"), budget)


def _run_length(data: bytes, budget: int, keep: bool) -> tuple[bytes, int]:
    out, i = bytearray(), 0
    while i < len(data):
        n = data[i]
        if n == 128:
            break
        if n < 128:
            out += data[i + 1: i + 2 + n]
            i += n + 2
        else:
            out += data[i + 1: i + 2] * (257 - n)
            i += 2
        if len(out) > budget:
            raise _Over
    return bytes(out), len(out)


def _lzw(data: bytes, budget: int, keep: bool) -> tuple[bytes, int]:
    """PDF's LZW (MSB-first codes of 9-12 bits, EarlyChange 1)."""
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    out, prev, width, bits, nbits = bytearray(), b"", 9, 0, 0
    for byte in data:
        bits, nbits = (bits << 8) | byte, nbits + 8
        while nbits >= width:
            nbits -= width
            code = (bits >> nbits) & ((1 << width) - 1)
            if code == 256:
                table, prev, width = table[:258], b"", 9
                continue
            if code == 257:
                return _checked(bytes(out), budget)
            entry = table[code] if code < len(table) else prev + prev[:1]
            if prev:
                table.append(prev + entry[:1])
            out += entry
            if len(out) > budget:
                raise _Over
            prev = entry
            if len(table) + 1 >= 1 << width and width < 12:
                width += 1
    return bytes(out), len(out)


def _checked(out: bytes, budget: int) -> tuple[bytes, int]:
    if len(out) > budget:
        raise _Over
    return out, len(out)


_DECODERS = {"FlateDecode": _flate, "ASCIIHexDecode": _hex, "ASCII85Decode": _a85,
             "RunLengthDecode": _run_length, "LZWDecode": _lzw}
