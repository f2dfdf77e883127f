"""Benchmark: the full default `barometre-geo build`, cold and warm, vs an explore() loop.

Run:  .venv/bin/python benchmarks/bench_build.py [--jobs 2] [--explore-sample 4] [--before main]
      [--baseline DIR] [--pairs 3]

Target: full default build (74 indicators, all levels, coverage, participation,
tables, index, manifest) ≤ 60 s and ≤ 2 GB peak memory on 2 cores.

* **cold**: a fresh process with ``BAROMETRE_GEO_CACHE`` pointing at an empty
  folder (the demo exports are generated, then read);
* **warm**: a second fresh process on the same cache.

Each run is a child process (``barometre-geo build --quiet``). Measured: wall
time; peak RSS of the largest process of the tree (``getrusage(RUSAGE_CHILDREN)``
``ru_maxrss``, which covers the worker processes too); the peak of the *sum* of
the RSS and of the PSS of the build and its workers, sampled every 0.1 s from
``/proc`` (Linux; RSS counts the pages shared after ``fork`` once per process,
PSS shares them out: the PSS sum is the memory the tree really uses);
CPU time (user + sys of the tree); output folder size.

``--before REV``: the same default build of an earlier revision of the
repository (``git archive REV`` into a temporary folder, run with this Python and
``PYTHONPATH`` on it; ``--baseline DIR``: a tree already unpacked), measured in
the same run, for a before/after of the wall time and of the output (by kind of
file: maps, territory pages, GeoPackages — with the largest one-indicator file at
EPCI/département/région level —, tables, index).

Modelled estimates (issue 13): a third run, warm, with ``--estimates direct``
(no small-area model) measures what the default ``--estimates model`` adds, in
the same run (target: ≤ 20 s and ≤ 2 GB). One pair of builds differs by ±5 s
from run to run on this machine: ``--pairs N`` builds N − 1 more (model, direct)
pairs, one after the other, and reports the median difference with every pair.

Alternative a user would write: a loop over the indicators calling
``GeoDataFrame.explore()`` on the départements joined to ``aggregate()``'s
rows, saved with ``folium.Map.save`` — département level only, no index, no
GeoPackage, no protection of the joined values beyond what aggregate did. It is
timed on ``--explore-sample`` indicators in this process, then **extrapolated**
to every indicator at the département level (labelled as such).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from statistics import median


def _tree_memory(pid: int) -> tuple[int, int]:
    """Sums of RSS and PSS (bytes) of ``pid`` and its descendants, from /proc (Linux).

    PSS divides each shared page (the workers' copy-on-write pages inherited by
    fork) among the processes sharing it: its sum is the memory the tree uses.
    """
    children: dict[int, list[int]] = {}
    mem: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/smaps_rollup") as fh:
                fields = {x.split(":")[0]: int(x.split()[1]) for x in fh if x.endswith("kB\n")}
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        mem[int(entry)] = (fields.get("Rss", 0) * 1024, fields.get("Pss", 0) * 1024)
    rss = pss = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        rss += mem.get(p, (0, 0))[0]
        pss += mem.get(p, (0, 0))[1]
        todo += children.get(p, [])
    return rss, pss


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_build(
    workdir: Path, cache: Path, jobs: int, extra: tuple = (), source: Path | None = None
) -> dict:
    """Run a build in ``workdir`` (``extra`` options; ``source``: another version's tree)."""
    exe = Path(sys.executable).with_name("barometre-geo")
    cmd = [str(exe), "build", "--quiet", "--jobs", str(jobs), *extra]
    env = {**os.environ, "BAROMETRE_GEO_CACHE": str(cache)}
    if source is not None:
        cmd = [sys.executable, "-m", "barometre_geo", *cmd[1:]]
        env["PYTHONPATH"] = str(source.resolve())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, text=True)
    peak = [0, 0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(0.1)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    thread.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"build failed ({proc.returncode}):\n{out}")
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "maxrss": after.ru_maxrss * 1024,  # the largest process so far (kB on Linux)
        "tree_rss": peak[0],
        "tree_pss": peak[1],
        "size": _folder_size(workdir / "maps"),
        "files": sum(1 for p in (workdir / "maps").rglob("*") if p.is_file()),
        "summary": out.strip().splitlines()[0] if out.strip() else "",
        "kinds": _by_kind(workdir / "maps"),
    }


def _by_kind(folder: Path) -> dict:
    """Files and bytes per kind of the manifest; the GeoPackages' and pages' extremes."""
    import json

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    kinds: dict[str, list[int]] = {}
    for f in manifest["files"]:
        kinds.setdefault(f["kind"], []).append(int(f["size"]))
    gpkg = [f for f in manifest["files"] if f["kind"] == "geopackage" and f.get("indicator")]
    three = [f["size"] for f in gpkg if f.get("level") == "epci departement region"]
    empty = sum(bool(f.get("empty")) for f in manifest["files"])
    index = (folder / "index.html").read_text(encoding="utf-8")
    toc = index.split('id="sommaire"', 1)[-1].split("</nav>", 1)[0].count("<a ")
    return {
        "kinds": {k: (len(v), sum(v), max(v)) for k, v in kinds.items()},
        "gpkg_indicator_max": max((f["size"] for f in gpkg), default=0),
        "gpkg_three_levels_max": max(three, default=0),
        "gpkg_three_levels_min": min(three, default=0),
        "empty_pages": empty,
        "index_links": index.count("<a "),
        "index_toc": toc,
    }


def explore_loop(sample: int, out: Path) -> dict:
    """Time the user's alternative on ``sample`` indicators (département level)."""
    import warnings

    import barometre_geo as bg

    start = time.perf_counter()
    t = bg.load_territories()
    r = bg.load_demo()
    catalogue = bg.load_catalogue()
    headline = [i.id for i in catalogue if i.statistic in ("share", "mean")][:sample]
    table = bg.aggregate(r, level="departement", indicators=headline, weights=None)
    setup = time.perf_counter() - start
    times, sizes = [], []
    for ind in headline:
        t0 = time.perf_counter()
        rows = table[(table["indicator"] == ind) & (table["by"] == "total")]
        gdf = t.departements.merge(rows[["code", "value", "n"]], on="code", how="left")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = gdf.explore(column="value", tooltip=["nom", "value", "n"], tiles=None)
        path = out / f"{ind}.html"
        m.save(path)
        times.append(time.perf_counter() - t0)
        sizes.append(path.stat().st_size)
    per_map = sum(times) / len(times)
    n_dep_maps = len([i for i in catalogue if "departement" in i.levels])
    return {
        "setup": setup,
        "per_map": per_map,
        "mean_size": sum(sizes) / len(sizes),
        "n": len(headline),
        "n_extrapolated": n_dep_maps,
        "extrapolated_wall": setup + per_map * n_dep_maps,
        "extrapolated_size": sum(sizes) / len(sizes) * n_dep_maps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--explore-sample", type=int, default=4)
    parser.add_argument("--before", metavar="REV", help="also build this git revision (e.g. main)")
    parser.add_argument(
        "--pairs", type=int, default=1,
        help="measure what the model adds over N warm (model, direct) pairs, built one after "
        "the other; the median of the N differences is the figure (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--baseline", metavar="DIR", type=Path,
        help="source tree of another version (git archive <commit> | tar -x -C DIR): its "
        "warm build is measured in the same run, after ours",
    )  # fmt: skip
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-build-"))
    try:
        cache = root / "cache"
        cache.mkdir()
        work = root / "work"
        work.mkdir()
        print(f"cpu count {os.cpu_count()}, jobs {args.jobs}, load {os.getloadavg()[0]:.1f}")
        cold = run_build(work, cache, args.jobs)
        warm = run_build(work, cache, args.jobs)  # replaces maps/ (previous build output)
        before = None
        if args.before:
            source = root / "before"
            source.mkdir()
            repo = Path(__file__).resolve().parents[1]
            archive = subprocess.run(["git", "-C", str(repo), "archive", args.before],
                                     check=True, capture_output=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
            old_work = root / "work-before"
            old_work.mkdir()
            before = run_build(old_work, cache, args.jobs, source=source)
        direct = run_build(work, cache, args.jobs, ("--estimates", "direct"))
        pairs = [(warm, direct)]
        for _ in range(args.pairs - 1):
            model = run_build(work, cache, args.jobs)
            pairs.append((model, run_build(work, cache, args.jobs, ("--estimates", "direct"))))
        base = None
        if args.baseline:
            other = root / "baseline"
            other.mkdir()
            base = run_build(other, cache, args.jobs, source=args.baseline)
        explore_dir = root / "explore"
        explore_dir.mkdir()
        os.environ["BAROMETRE_GEO_CACHE"] = str(cache)
        alt = explore_loop(args.explore_sample, explore_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    mb = 1 << 20
    print(
        f"\n{'':<44}{'wall s':>8}{'CPU s':>8}{'max RSS MB':>12}{'tree RSS MB':>13}"
        f"{'tree PSS MB':>13}"
    )
    runs = [("barometre-geo build, cold (empty cache)", cold),
            ("barometre-geo build, warm", warm),
            ("  warm, --estimates direct (no model)", direct)]  # fmt: skip
    if base is not None:
        runs.append(("baseline (--baseline), warm", base))
    for name, r in runs:
        print(
            f"{name:<44}{r['wall']:>8.1f}{r['cpu']:>8.1f}{r['maxrss'] / mb:>12.0f}"
            f"{r['tree_rss'] / mb:>13.0f}{r['tree_pss'] / mb:>13.0f}"
        )
    if base is not None:
        print(f"  baseline output: {base['files']} files, {base['size'] / mb:.0f} MB")
    print(
        f"  output: {warm['files']} files, {warm['size'] / mb:.0f} MB — {warm['summary']}\n"
        f"explore() loop, départements only: {alt['n']} maps measured, "
        f"{alt['per_map']:.2f} s/map + {alt['setup']:.1f} s setup, "
        f"{alt['mean_size'] / 1024:.0f} kB/map\n"
        f"  EXTRAPOLATED to {alt['n_extrapolated']} indicators at département level: "
        f"{alt['extrapolated_wall']:.0f} s, {alt['extrapolated_size'] / mb:.0f} MB "
        "(no EPCI/région/commune maps, no GeoPackage, no index, no coverage)"
    )
    added = median(m["wall"] - d["wall"] for m, d in pairs)
    cpu = median(m["cpu"] - d["cpu"] for m, d in pairs)
    if len(pairs) > 1:
        each = [
            f"({m['wall']:.1f}, {d['wall']:.1f}) {m['wall'] - d['wall']:+.1f}" for m, d in pairs
        ]
        print("(model, direct) pairs, wall s: " + ", ".join(each))
    print(
        f"modelled estimates add {added:.1f} s wall, {cpu:.1f} CPU-s"
        + (f" (median of {len(pairs)} pairs)" if len(pairs) > 1 else "")
        + f", {(warm['tree_pss'] - direct['tree_pss']) / mb:+.0f} MB tree PSS "
        f"(target ≤ 20 s, ≤ 2 GB in all: {'met' if added <= 20 else 'NOT met'})"
    )
    rows = [("this revision (warm)", warm)]
    if before:
        rows.append((f"{args.before} (warm cache)", before))
    if base is not None:
        rows.append(("baseline (warm cache)", base))
    if before:
        print(f"\nbefore: {args.before}, wall {before['wall']:.1f} s, CPU {before['cpu']:.1f} s")
    labels = {
        "carte": "HTML maps",
        "territoire": "territory pages",
        "geopackage": "GeoPackages",
        "table": "tables (donnees/)",
        "index": "index.html",
        "rapport": "reports",
    }
    print(f"\n{'output (files, MB, largest kB)':<34}" + "".join(f"{n:>28}" for n, _ in rows))
    for kind, label in labels.items():
        cells = []
        for _, r in rows:
            n, size, big = r["kinds"]["kinds"].get(kind, (0, 0, 0))
            cells.append(f"{n:>6} {size / mb:>9.1f} {big / 1024:>10.0f}")
        print(f"{label:<34}" + "".join(f"{c:>28}" for c in cells))
    for key, label in (("size", "whole folder MB"),):
        print(f"{label:<34}" + "".join(f"{r[key] / mb:>28.1f}" for _, r in rows))
    for key, label in (
        ("gpkg_three_levels_max", "GeoPackage EPCI+dép.+rég., max MB"),
        ("gpkg_three_levels_min", "GeoPackage EPCI+dép.+rég., min MB"),
        ("gpkg_indicator_max", "GeoPackage of an indicator, max MB"),
    ):
        print(f"{label:<34}" + "".join(f"{r['kinds'][key] / mb:>28.2f}" for _, r in rows))
    for key, label in (("empty_pages", "'aucune valeur publiable' pages"),
                       ("index_links", "links in index.html"),
                       ("index_toc", "table-of-contents links")):  # fmt: skip
        print(f"{label:<34}" + "".join(f"{r['kinds'][key]:>28}" for _, r in rows))
    memory = max(cold["tree_pss"], warm["tree_pss"])
    ok = max(cold["wall"], warm["wall"]) <= 60 and memory <= 2 * 1024 * mb
    print(f"target ≤ 60 s and ≤ 2 GB: {'met' if ok else 'NOT met'} on this machine")


if __name__ == "__main__":
    main()
