"""Training budgets, one setting apart.

`fast`: tests and `make demo` (well under a minute per asset on 2 CPU cores).
`default`: the budget the recipes' figures are measured at on CPU (minutes).
`large`: a GPU node (large batches: tiny models are launch-bound on a GPU).
The profile comes from a run's config (`profile`, set in the launchpad) or else from
`MMFOUNDRY_TRAINING_PROFILE` (default `fast`).
"""

from __future__ import annotations

import os

PROFILES = ("fast", "default", "large")


def training_profile(override: str | None = None) -> str:
    profile = (override or os.environ.get("MMFOUNDRY_TRAINING_PROFILE") or "fast").strip()
    if profile not in PROFILES:
        from resources.settings import ConfigError

        raise ConfigError(f"training profile must be one of {', '.join(PROFILES)}; got {profile!r}")
    return profile
