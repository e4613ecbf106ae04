"""Shared fixtures. Tests never reach the network; torch uses one thread (a second busy process
slows 2-thread torch many times on a 2-core machine)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture
def mmf_env(tmp_path, monkeypatch):
    """A private storage root and landing zone; returns the Settings they produce."""
    from resources.settings import load_settings

    data = tmp_path / "data"
    landing = tmp_path / "landing"
    landing.mkdir(parents=True)
    monkeypatch.setenv("MMFOUNDRY_DEPLOYMENT", "local")
    monkeypatch.setenv("MMFOUNDRY_DATA", str(data))
    monkeypatch.setenv("MMFOUNDRY_LANDING", str(landing))
    monkeypatch.delenv("MMFOUNDRY_WAREHOUSE", raising=False)
    monkeypatch.delenv("MMFOUNDRY_CACHE", raising=False)
    return load_settings()
