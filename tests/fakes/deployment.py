"""A private local deployment for a test: its own storage root and landing zone, the offline
backends, and none of the developer's overrides leaking in."""

from __future__ import annotations

from pathlib import Path

import pytest

OVERRIDES = ("MMFOUNDRY_WAREHOUSE", "MMFOUNDRY_CACHE", "MMFOUNDRY_LLM_BACKEND", "MMFOUNDRY_VLM_BACKEND",
             "MMFOUNDRY_JUDGE_BACKEND")


def local_deployment(mp: pytest.MonkeyPatch, data: Path, landing: Path) -> None:
    mp.setenv("MMFOUNDRY_DEPLOYMENT", "local")
    mp.setenv("MMFOUNDRY_DATA", str(data))
    mp.setenv("MMFOUNDRY_LANDING", str(landing))
    for var in OVERRIDES:
        mp.delenv(var, raising=False)
