"""Shared fixtures. Tests never use the network and write only under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Point the user cache at a temporary folder: tests never touch the real one."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("BAROMETRE_GEO_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def territories():
    """The embedded COG 2025 reference (loaded once per session; do not mutate)."""
    import barometre_geo as bg

    return bg.load_territories()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real files shared for tests (../shared/data); skip if absent."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path}")
    return path
