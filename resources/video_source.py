"""Where a video's bytes come from: the landing zone, a URI in the metadata, or YouTube via yt-dlp.

FineVideo downloaded inside a batch job with yt-dlp and wrote an error file when a download failed.
Here a metadata row is resolved through an ordered list of places (the row's `video_path`, relative
to the landing zone or a full http(s)/s3/gs URI; then `videos/<video_id>.<ext>` in the landing zone;
then, if enabled, yt-dlp on the row's `video_link`), the first that exists is copied to local disk
(remote objects once, into a cache), and every way this can fail is a `VideoError` with a reason,
so the screen records it for that id and goes on with the others. A landed video or its sibling
subtitle file that resolves outside the landing zone (a symlink, a hard link) is
`outside_landing_zone`: the id is rejected rather than published with a file that is not the provider's.
A video over `max_video_bytes` or a subtitle file over `max_subtitle_bytes` is `too_large`, a
download included (it stops at the cap and its partial file is removed); an HTTP server that does not
connect or goes quiet for the time-outs is `unreachable`, so no download can hang a shard.

yt-dlp is an optional extra (`pip install .[ytdlp]`), untested here: no test may reach YouTube.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import dagster as dg
from pydantic import Field
from upath import UPath

from resources.containment import OUTSIDE, OutsideLandingZone
from resources.landing import LandingZone, local_copy
from resources.limits import TOO_LARGE, TooLarge, http_options
from resources.video import VideoError

REMOTE = ("http://", "https://", "s3://", "gs://", "gcs://")
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Fetched:
    path: Path  # a local file
    source_uri: str  # where it came from
    subtitle: Path | None  # the English .vtt next to it, if any


class VideoSource(dg.ConfigurableResource):
    landing: LandingZone
    cache_dir: str = Field(default=".data/cache/videos", description="Local copies of remote videos.")
    storage_options: dict = Field(default_factory=dict, description="fsspec options for URIs in rows.")
    use_ytdlp: bool = Field(default=False, description="Download rows with no file through yt-dlp.")
    workers: int = Field(default=4, description="Videos fetched and probed at once (I/O bound).")
    max_video_bytes: int = Field(default=8 << 30, gt=0, description=(
        "A video file (landed or downloaded) larger than this is `too_large`; a download stops there."))
    max_subtitle_bytes: int = Field(default=16 << 20, gt=0, description=(
        "A subtitle file larger than this makes its video `too_large` (a real .vtt is kilobytes)."))
    connect_timeout_s: float = Field(default=20.0, gt=0, description="HTTP(S): seconds to connect.")
    read_timeout_s: float = Field(default=60.0, gt=0, description=(
        "HTTP(S): seconds without a byte before a download is `unreachable`."))

    def _options(self, uri: str) -> dict:
        if uri.startswith(("http://", "https://")):
            return http_options(self.storage_options, self.connect_timeout_s, self.read_timeout_s)
        return self.storage_options

    def candidates(self, video_id: str, video_path: str | None) -> list[UPath]:
        """The places to look, in order (only ones that can exist)."""
        out: list[UPath] = []
        if video_path:
            if video_path.startswith(REMOTE):
                out.append(UPath(video_path, **self._options(video_path)))
            elif _inside(video_path):
                out.append(self.landing.path(*PurePosixPath(video_path).parts))
        landed = self.landing.video_file(video_id)
        if landed is not None:
            out.append(landed)
        return out

    def fetch(self, video_id: str, video_path: str | None = None, video_link: str | None = None) -> Fetched:
        try:
            return self._fetch(video_id, video_path, video_link)
        except OutsideLandingZone as e:
            raise VideoError(OUTSIDE, str(e)) from e
        except TooLarge as e:
            raise VideoError(TOO_LARGE, str(e)) from e

    def _fetch(self, video_id: str, video_path: str | None, video_link: str | None) -> Fetched:
        tried = []
        for uri in self.candidates(video_id, video_path):
            tried.append(str(uri))
            try:
                if _remote(uri):  # fsspec's exists() hides network errors
                    path = local_copy(uri, self.cache_dir, self.max_video_bytes)
                elif os.path.lexists(uri.path):
                    path = local_copy(self.landing.contained(uri), self.cache_dir, self.max_video_bytes)
                else:
                    continue
            except FileNotFoundError as e:
                # fsspec's HTTP calls a refused connection or a silent server "not found" too; only
                # a 404 (an HTTP answer, not an OSError) is one
                if isinstance(e.__cause__, OSError) and _remote(uri):
                    raise VideoError(UNREACHABLE, f"{uri}: {type(e.__cause__).__name__}: {e.__cause__}") from e
                continue
            except (OutsideLandingZone, TooLarge):
                raise
            except Exception as e:  # network, permissions, credentials: this id only
                raise VideoError(UNREACHABLE, f"{uri}: {type(e).__name__}: {e}") from e
            return Fetched(path, str(uri), self._subtitle(uri, video_id))
        if self.use_ytdlp and video_link:
            return self._ytdlp(video_link)
        if video_path and not video_path.startswith(REMOTE) and not _inside(video_path):
            raise VideoError(VideoError.MISSING, f"video_path {video_path!r} leaves the landing zone")
        raise VideoError(VideoError.MISSING, "not found at " + (", ".join(tried) or "any known place"))

    def _subtitle(self, video: UPath, video_id: str) -> Path | None:
        sibling = video.with_name(video.name.rsplit(".", 1)[0] + ".en.vtt")
        cap = self.max_subtitle_bytes
        if not _remote(sibling) and os.path.lexists(sibling.path):
            return local_copy(self.landing.contained(sibling), self.cache_dir, cap)
        try:
            if _remote(sibling) and sibling.exists():
                return local_copy(sibling, self.cache_dir, cap)
        except OSError:
            pass
        landed = self.landing.subtitle_file(video_id)
        return None if landed is None else local_copy(landed, self.cache_dir, cap)

    def _ytdlp(self, url: str) -> Fetched:
        try:
            import yt_dlp
        except ImportError as e:
            raise VideoError(UNREACHABLE, "use_ytdlp is set but yt-dlp is not installed (pip install .[ytdlp])") from e
        dest = Path(self.cache_dir) / "ytdlp" / hashlib.sha256(url.encode()).hexdigest()[:16]
        dest.mkdir(parents=True, exist_ok=True)
        options = {
            "format": "best[ext=mp4]/best", "outtmpl": str(dest / "%(id)s.%(ext)s"), "quiet": True,
            "noprogress": True, "writesubtitles": True, "subtitleslangs": ["en"], "subtitlesformat": "vtt",
            "writeinfojson": True, "max_filesize": self.max_video_bytes, "socket_timeout": self.read_timeout_s,
        }
        try:
            with yt_dlp.YoutubeDL(options) as ydl:
                path = Path(ydl.prepare_filename(ydl.extract_info(url, download=True)))
        except Exception as e:  # yt-dlp raises its own DownloadError and plain OSErrors
            raise VideoError(UNREACHABLE, f"yt-dlp: {type(e).__name__}: {e}") from e
        vtt = next(iter(sorted(dest.glob("*.en.vtt"))), None)
        return Fetched(path, url, vtt)


def _remote(p: UPath) -> bool:
    return p.protocol not in ("", "file", "local")


def _inside(relative: str) -> bool:
    """A path from data that stays inside the landing zone."""
    parts = PurePosixPath(relative.replace(os.sep, "/")).parts
    return bool(parts) and not PurePosixPath(relative).is_absolute() and ".." not in parts
