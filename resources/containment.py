"""What a landed file that resolves outside the landing zone is called, kept free of Dagster so the
pure readers (PDFA tars, the documents screen's rules) can name it too."""

OUTSIDE = "outside_landing_zone"


class OutsideLandingZone(ValueError):
    """A landed path that resolves outside the landing zone (a symlink) or is a hard link."""

    reason = OUTSIDE
