"""Shared fixtures. Tests never use the network and write only under tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[1]
#: Where the real shared test files may be, in order: explicit override, a sibling
#: ``shared/`` folder of the checkout (the team's layout), the team machine's path.
SHARED_CANDIDATES = [
    *(
        [Path(os.environ["BAROMETRE_GEO_SHARED_DATA"])]
        if os.environ.get("BAROMETRE_GEO_SHARED_DATA")
        else []
    ),
    _REPO.parent / "shared" / "data",
    Path("/work/shared/data"),
]


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Point the user cache at a temporary folder: tests never touch the real one."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("BAROMETRE_GEO_CACHE", str(cache))
    return cache


@pytest.fixture(autouse=True)
def _french_messages(monkeypatch):
    """The command line speaks French unless the locale says English: pin the locale.

    Tests that check English messages pass ``--lang en`` or set ``LANG=en_…``.
    """
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(scope="session")
def territories():
    """The embedded COG 2025 reference (loaded once per session; do not mutate)."""
    import barometre_geo as bg

    return bg.load_territories()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real files shared for tests (never copied into the repository).

    Set ``BAROMETRE_GEO_SHARED_DATA`` to its path if it is elsewhere; skipped if absent.
    """
    for path in SHARED_CANDIDATES:
        if path.is_dir():
            return path
    pytest.skip(
        "shared test data not found (looked in "
        + ", ".join(str(p) for p in SHARED_CANDIDATES)
        + "); set BAROMETRE_GEO_SHARED_DATA to the folder holding opsn-sample/ and france-services/"
    )


@pytest.fixture(scope="module")
def demo_cache(tmp_path_factory):
    """One cache folder per test module: the demo edition is generated once per module.

    Modules that build opt in with ``pytestmark = pytest.mark.usefixtures("shared_demo_cache")``.
    """
    return tmp_path_factory.mktemp("demo-cache")


@pytest.fixture
def shared_demo_cache(demo_cache, monkeypatch):
    """Point the cache at the module's ``demo_cache`` (instead of a folder per test)."""
    monkeypatch.setenv("BAROMETRE_GEO_CACHE", str(demo_cache))
    return demo_cache


@pytest.fixture(scope="session")
def demo_exports(tmp_path_factory, territories):
    """The synthetic demo edition's raw export files, written once per session (do not modify).

    Returns the three wave files (``;`` UTF-8 CSV, ``;`` Windows-1252 CSV, ``.xlsx``).
    """
    import barometre_geo as bg

    return bg.write_demo_exports(tmp_path_factory.mktemp("demo-exports"), territories=territories)
