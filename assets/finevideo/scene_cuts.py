"""Scene cuts as PySceneDetect's `ContentDetector(threshold=15)` finds them (FineVideo's alignment).

The detector's decisions are PySceneDetect's (its thresholding and flash filter run unchanged); what
is prepared here is the frames it sees and the arithmetic of its score:
- frames are shrunk to the size `SceneManager`'s auto-downscale picks (about 256 px wide) by
  nearest-neighbour sampling, and only then converted to BGR, instead of converting the full frame
  and resizing it in OpenCV (that alone would cost as much as decoding);
- the score's channel means are per-channel sums of absolute differences computed by OpenCV in one
  pass rather than through int32 copies in numpy; the sums are integers, so the floats are
  bit-identical (a unit test holds the two side by side), and an image fed twice in a row scores 0,
  as the stock arithmetic gives.
The dynamism screen feeds its one decode to a `CutDetector` too, so a video's cuts are the same
whichever of the two computed them.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

THRESHOLD = 15.0
DETECTION_WIDTH = 256  # scenedetect.scene_manager.DEFAULT_MIN_WIDTH


def detection_size(width: int, height: int) -> tuple[int, int]:
    """SceneManager's auto-downscale: factor width / 256 for frames at least 256 wide."""
    factor = width / DETECTION_WIDTH if width >= DETECTION_WIDTH else 1.0
    return max(1, round(width / factor)), max(1, round(height / factor))


class DetectionImages:
    """Decoded frames as the detector sees them: small BGR arrays, nearest-neighbour sampled.

    8-bit yuv420p (nearly every web video) is sampled plane by plane before the colour conversion,
    which then touches only the small image; other formats go through swscale, with one reused
    context (a new one per frame costs milliseconds)."""

    def __init__(self):
        from av.video.reformatter import VideoReformatter

        self._reformatter = VideoReformatter()

    def bgr(self, frame):
        import cv2
        import numpy as np

        w, h = detection_size(frame.width, frame.height)
        if frame.format.name not in ("yuv420p", "yuvj420p") or w % 2 or h % 2:
            return self._reformatter.reformat(frame, width=w, height=h, format="bgr24",
                                              interpolation="POINT").to_ndarray()
        small = []
        for plane, size in zip(frame.planes, ((w, h), (w // 2, h // 2), (w // 2, h // 2)), strict=True):
            full = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[: plane.height, : plane.width]
            small.append(cv2.resize(full, size, interpolation=cv2.INTER_NEAREST).ravel())
        return cv2.cvtColor(np.concatenate(small).reshape(-1, w), cv2.COLOR_YUV2BGR_I420)


def content_detector(threshold: float = THRESHOLD):
    """PySceneDetect's ContentDetector (default weights, no stats file) with the faster, identical
    score arithmetic described above."""
    import cv2
    from scenedetect import ContentDetector

    class _Detector(ContentDetector):
        _image = None
        _hsv = None

        def _calculate_frame_score(self, timecode, frame_img) -> float:
            if self._weights.delta_edges > 0.0 or self.stats_manager is not None:
                return super()._calculate_frame_score(timecode, frame_img)
            if frame_img is self._image:
                return 0.0
            hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
            last, self._image, self._hsv = self._hsv, frame_img, hsv
            if last is None:
                return 0.0
            pixels = float(frame_img.shape[0] * frame_img.shape[1])
            sums = cv2.sumElems(cv2.absdiff(hsv, last))  # per channel: hue, saturation, value
            components = [sums[0] / pixels, sums[1] / pixels, sums[2] / pixels]
            components.append(0.0)  # edges: weight 0 and no stats file, as in the stock detector
            return sum(c * w for c, w in zip(components, self._weights, strict=True)) / sum(
                abs(w) for w in self._weights
            )

    return _Detector(threshold=threshold)


class CutDetector:
    """Feed decoded frames in presentation order; `cuts()` returns the cut times in seconds."""

    def __init__(self, stream, threshold: float = THRESHOLD):
        self._detector = content_detector(threshold)
        self._images = DetectionImages()
        self._rate = Fraction(stream.guessed_rate or stream.average_rate or 25)
        self._time_base = Fraction(stream.time_base)
        self._origin = stream.start_time or 0
        self._found: list = []
        self._last = None
        self.image = None  # the last frame as the detector saw it

    def feed(self, frame, repeat: bool = False) -> None:
        """`repeat`: the frame's pixels are exactly the previous frame's (its image is reused)."""
        from scenedetect.common import FrameTimecode, Timecode

        if not repeat or self.image is None:
            self.image = self._images.bgr(frame)
        position = FrameTimecode(timecode=Timecode(pts=frame.pts - self._origin, time_base=self._time_base),
                                 fps=self._rate)
        self._found += self._detector.process_frame(position, self.image)
        self._last = position

    def cuts(self) -> list[float]:
        if self._last is not None:
            self._found += self._detector.post_process(self._last)
            self._last = None
        return sorted({round(c.seconds, 6) for c in self._found})


def detect_scene_cuts(path: str | Path, threshold: float = THRESHOLD) -> list[float]:
    """Cut times (seconds, each the first frame of a new scene) of the video at `path`."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "NONE"
        detector = CutDetector(stream, threshold)
        for frame in container.decode(stream):
            detector.feed(frame)
    return detector.cuts()
