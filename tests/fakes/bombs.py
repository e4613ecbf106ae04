"""Small files that cost a great deal to read: a Flate-bomb PDF and a gzip tar with a huge member.

Built by streaming, so making a 1 GB bomb holds one 16 MB chunk in memory; used by the landing-limit
tests and the fault bench."""

from __future__ import annotations

import io
import tarfile
import zlib
from pathlib import Path

GB = 1 << 30


def flate_bomb(path: Path, inflated: int = GB) -> None:
    """A one-page PDF whose content stream inflates to `inflated` bytes of zeros (~1 MB on disk)."""
    c, chunk = zlib.compressobj(9), bytes(16 << 20)
    body = b"".join([*(c.compress(chunk) for _ in range(inflated // len(chunk))), c.flush()])
    objs = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>",
            b"<</Length %d/Filter/FlateDecode>>\nstream\n" % len(body) + body + b"\nendstream"]
    out, offsets = io.BytesIO(b"%PDF-1.4\n"), []
    out.seek(0, 2)
    for i, obj in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    path.write_bytes(out.getvalue())


class Zeros(io.RawIOBase):
    def __init__(self, n: int):
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def tar_bomb(path: Path, good_pdf: bytes, member: int = GB) -> None:
    """A gzip webdataset tar (a few MB) with one good PDF and a `member`-byte one."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("good/0000010.pdf")
        info.size = len(good_pdf)
        tar.addfile(info, io.BytesIO(good_pdf))
        info = tarfile.TarInfo("big/0000011.pdf")
        info.size = member
        tar.addfile(info, Zeros(member))


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not `ru_maxrss`: Linux carries that across fork
    and exec, so a child of a large process would report its parent's peak."""
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    return kb / 1024
