"""Import graph of the barometre_geo package: stages, cycles, longest chain.

The rule it checks (``docs/architecture.md``): the package is a stack of stages;
a module imports only modules of its own stage or of a *lower* stage, never a
higher one nor a sibling of the same rank. Every import counts, at module level
or inside a function (a lazy import is still a dependency); only imports under
``if TYPE_CHECKING:`` are left out (they never run).

Run ``python tools/import_graph.py`` for the figures (modules per stage, cycles,
longest import chain); ``tests/test_layout.py`` enforces the rule.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "barometre_geo"
PKG = "barometre_geo"

#: Stages from the lowest. Stages on one line share a rank and may not import each other.
STAGES: list[tuple[str, ...]] = [
    ("core",),  # errors, _version, _paths, _format, _xlsx, _show_versions, _tables, _workers
    ("territories",),
    ("survey",),
    ("stats",),
    ("protection",),
    ("indicators",),
    ("maps",),
    ("coverage", "compare"),
    ("demo",),
    ("build", "testing"),
    ("cli",),
    ("root",),  # barometre_geo/__init__.py and __main__.py: the public face, re-exports
]
RANK = {stage: i for i, group in enumerate(STAGES) for stage in group}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file of every module of the package."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def stage_of(name: str) -> str:
    """Stage of a dotted module name."""
    parts = name.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] == "__main__"):
        return "root"
    if parts[1] in RANK and parts[1] not in ("core", "root"):
        return parts[1]
    return "core"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = getattr(test, "id", None) or getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports(mods: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Return, for each module, the package modules it imports (packages included)."""
    mods = mods if mods is not None else modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        is_pkg = path.name == "__init__.py"
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        deps: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                for alias in node.names:
                    sub = f"{mod}.{alias.name}"
                    targets.append(sub if sub in mods else mod)
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t not in mods or t == name:
                    continue
                deps.add(t)
                # importing a.b.c runs a/__init__ and a/b/__init__ from outside them
                parts = t.split(".")
                for i in range(2, len(parts)):
                    parent = ".".join(parts[:i])
                    if parent in mods and not name.startswith(parent + ".") and parent != name:
                        deps.add(parent)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def violations(graph: dict[str, set[str]]) -> list[str]:
    """List the imports that go up the stack or sideways between stages of one rank."""
    bad = []
    for name, deps in sorted(graph.items()):
        s = stage_of(name)
        for d in sorted(deps):
            t = stage_of(d)
            if t == s:
                continue
            if RANK[t] >= RANK[s]:
                bad.append(f"{name} ({s}) imports {d} ({t})")
    return bad


def longest_chain(graph: dict[str, set[str]]) -> list[str]:
    """Longest import path (the graph must be acyclic)."""
    memo: dict[str, list[str]] = {}

    def longest(v: str) -> list[str]:
        if v not in memo:
            best: list[str] = []
            for w in graph.get(v, ()):
                cand = longest(w)
                if len(cand) > len(best):
                    best = cand
            memo[v] = [v, *best]
        return memo[v]

    return max((longest(v) for v in sorted(graph)), key=len)


def main() -> None:
    """Print modules per stage, cycles, violations and the longest chain."""
    mods = modules()
    graph = imports(mods)
    per_stage: dict[str, int] = {}
    for name in mods:
        per_stage[stage_of(name)] = per_stage.get(stage_of(name), 0) + 1
    print("modules per stage:")
    for group in STAGES:
        for s in group:
            print(f"  {s:12} {per_stage.get(s, 0)}")
    print(f"  {'total':12} {len(mods)}")
    cyc = cycles(graph)
    print(f"import cycles: {len(cyc)}")
    for c in cyc:
        print("  " + " <-> ".join(c))
    bad = violations(graph)
    print(f"layering violations: {len(bad)}")
    for b in bad:
        print("  " + b)
    if not cyc:
        chain = longest_chain(graph)
        print(f"longest import chain: {len(chain)} modules")
        print("  " + " -> ".join(chain))


if __name__ == "__main__":
    main()
