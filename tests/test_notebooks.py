"""The analysts' notebooks: committed without outputs, and each runs offline from start to end."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
DEAD_PROXY = "http://127.0.0.1:9"  # any HTTP(S) request from the kernel fails at once


def test_notebooks_are_numbered_and_stripped():
    names = [p.name for p in NOTEBOOKS]
    assert names[:6] == ["01_quickstart.ipynb", "02_votre_export.ipynb",
                         "03_statistiques.ipynb", "04_couverture_opsn.ipynb",
                         "05_comparaison.ipynb", "06_integration_prefecture.ipynb"]  # fmt: skip
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [], f"{path.name}: strip the outputs"
                assert cell["execution_count"] is None, f"{path.name}: strip execution counts"


@pytest.fixture(scope="module")
def notebook_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("nb-cache")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_offline(path, tmp_path, notebook_cache, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    # the kernel inherits this environment: a cache under tmp_path, no network
    monkeypatch.setenv("BAROMETRE_GEO_CACHE", str(notebook_cache))
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(var, DEAD_PROXY)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError with the failing cell and its traceback
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
