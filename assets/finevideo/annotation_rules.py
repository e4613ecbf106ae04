"""What a selected video must be before a model annotates it: short enough for the annotator
(FineVideo annotates videos of up to 10 minutes) and with subtitles that belong to it. Judged on the
stored `duration_s` and `subtitle_beyond_end`, before any model call."""

from __future__ import annotations

from pydantic import Field

from assets.finevideo.subtitles import SubtitleRules, subtitle_problem
from assets.kit.screening import Rule


class AnnotationRules(SubtitleRules):
    max_minutes: float = Field(default=10, gt=0, description="longest video the annotator is given, in minutes")

    def rules(self) -> list[Rule]:
        return [Rule(reason="too_long", column="duration_s", op="le", threshold=self.max_minutes * 60),
                *super().rules()]


def annotation_problem(measures: dict, duration_s: float, rules: AnnotationRules) -> tuple[str, str] | None:
    """(reason, detail) of the first rule a video fails, else None."""
    too_long = rules.rules()[0]
    if not too_long.passes(duration_s):
        return too_long.reason, f"{duration_s:.0f} s ({too_long.text()})"
    return subtitle_problem(measures, duration_s, rules)
