"""The tree says the pipeline: stage sub-packages, imports one way, no cycle.

The rule is written in ``docs/architecture.md`` and checked by
``tools/import_graph.py`` (which also prints the figures).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("import_graph", REPO / "tools" / "import_graph.py")
ig = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ig)

#: The only modules allowed directly under barometre_geo/ (the rest are stage packages).
TOP_LEVEL = {
    "__init__", "__main__", "_version", "_paths", "_format", "_xlsx", "_show_versions",
    "_tables", "_workers", "errors",
}  # fmt: skip


@pytest.fixture(scope="module")
def graph():
    return ig.imports()


def test_no_import_cycle(graph):
    assert ig.cycles(graph) == []


def test_imports_run_one_way(graph):
    assert ig.violations(graph) == []


def test_the_checks_catch_a_cycle_and_an_upward_import(graph):
    """The two checks above fail when the rule is broken (they are not vacuous)."""
    broken = {k: set(v) for k, v in graph.items()}
    broken["barometre_geo.territories.reference"].add("barometre_geo.maps._document")
    assert ig.violations(broken) == [
        "barometre_geo.territories.reference (territories) imports "
        "barometre_geo.maps._document (maps)"
    ]
    broken = {k: set(v) for k, v in graph.items()}
    broken["barometre_geo.territories.text"].add("barometre_geo.territories.resolve")
    assert any("barometre_geo.territories.text" in c for c in ig.cycles(broken))
    sideways = {k: set(v) for k, v in graph.items()}
    sideways["barometre_geo.coverage.measure"].add("barometre_geo.compare.fiche")
    assert len(ig.violations(sideways)) == 1  # same rank: siblings stay apart


def test_lazy_and_type_checking_imports(tmp_path):
    """A function-level import counts; an import under TYPE_CHECKING does not."""
    pkg = tmp_path / "barometre_geo"
    (pkg / "territories").mkdir(parents=True)
    (pkg / "maps").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "maps" / "__init__.py").write_text("")
    (pkg / "territories" / "__init__.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..maps import x\n"
        "def f():\n    from .. import maps\n"
    )
    g = ig.imports(ig.modules(pkg))
    assert g["barometre_geo.territories"] == {"barometre_geo.maps"}
    assert ig.violations(g) == [
        "barometre_geo.territories (territories) imports barometre_geo.maps (maps)"
    ]


def test_top_level_holds_only_packages_and_a_handful_of_modules():
    root = REPO / "barometre_geo"
    modules = {p.stem for p in root.glob("*.py")}
    assert modules == TOP_LEVEL
    packages = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    stages = {s for group in ig.STAGES for s in group} - {"core", "root"}
    assert packages == stages


def test_every_package_says_what_it_does_and_its_public_names():
    for init in sorted((REPO / "barometre_geo").rglob("__init__.py")):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree)
        assert doc and len(doc) > 200, f"{init}: the package docstring says too little"
        names = [
            n
            for n in tree.body
            if isinstance(n, ast.Assign)
            and any(getattr(t, "id", "") == "__all__" for t in n.targets)
        ]
        assert names, f"{init}: no __all__"


def test_every_module_declares_its_names():
    for path in sorted((REPO / "barometre_geo").rglob("*.py")):
        if path.name in ("__main__.py", "_version.py"):
            continue
        text = path.read_text(encoding="utf-8")
        assert "__all__" in text, f"{path.relative_to(REPO)} has no __all__"


def test_no_module_name_repeats_its_package_prefix():
    """survey/read.py, not survey/_ingest_read.py (the old flat-tree prefixes)."""
    old = ("_ingest_", "_aggregate_", "_demo_", "_build_", "_cmd_", "_resolve_", "_compare_",
           "_coverage_", "_catalogue_", "_protection_", "_structures_", "_spatial_",
           "_source")  # fmt: skip
    for path in (REPO / "barometre_geo").rglob("*.py"):
        assert not path.stem.startswith(old), path
        pkg = path.parent.name
        assert not path.stem.lstrip("_").startswith(pkg + "_"), path


def test_readme_library_names_exist():
    """Every ``bg.<name>`` of the README's Python examples is a public name."""
    import barometre_geo as bg

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    names = set(re.findall(r"\bbg\.([A-Za-z_]+)", "\n".join(blocks)))
    assert len(names) >= 10
    for name in sorted(names):
        assert hasattr(bg, name), name
        assert name in bg.__all__, name
