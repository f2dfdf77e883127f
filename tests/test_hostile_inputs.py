"""Hostile inputs, through the command line: nothing lost, nothing crashes (issue 12).

One test (or more) per case of the issue's "Loss and crashes" list, each
asserting the exit code, the message (the file named, what to do, in French
by default) and that nothing is lost or left behind. Signals and worker
processes are tested on a real ``python -m barometre_geo`` process.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from barometre_geo.cli import main

BUILD = ["--indicator", "cyber_pca", "--level", "region", "--jobs", "1", "--quiet"]


pytestmark = pytest.mark.usefixtures("shared_demo_cache")  # the demo is generated once


@pytest.fixture(scope="module")
def wave1(demo_exports) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the demo's wave 1 export (2,185 data rows, multi-line cells)."""
    with open(demo_exports[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    return rows[0], rows[1:]


def _write(path: Path, header, rows, *, encoding="utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }


def _validate_json(capsys, *files) -> dict:
    assert main(["validate", "--json", *map(str, files)]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


# ---------------------------------------------------------------- nothing lost


def test_stray_quote_on_line_101_loses_no_row(wave1, tmp_path, capsys):
    header, rows = wave1
    path = _write(tmp_path / "vague1.csv", header, rows)
    lines = path.read_text(encoding="utf-8").split("\n")
    cells = lines[100].split(";")
    assert '"' not in lines[100] and len(cells) == len(header)  # a single-line row
    cells[3] = '"' + cells[3]  # the stray opening quote of the attack, on line 101
    lines[100] = ";".join(cells)
    path.write_text("\n".join(lines), encoding="utf-8")
    report = _validate_json(capsys, path)
    s = report["summary"]
    assert s["rows"] == len(rows) == 2185  # the report counts every data row of the file
    assert s["accepted"] + s["superseded"] + s["rejected"] == s["rows"]
    damaged = [r for r in report["rows"] if r["reason"] == "damaged"]
    assert [r["line"] for r in damaged] == [101]
    assert "Nom de la collectivité" in damaged[0]["detail"] and "Corrigez" in damaged[0]["detail"]
    [info] = report["files"]  # why the file has more lines than the report has rows
    assert info["physical_lines"] > info["rows"] and "lignes physiques" in info["notes"][0]


def test_truncated_last_row_is_diagnosed_as_truncation(wave1, tmp_path, capsys):
    header, rows = wave1
    path = _write(tmp_path / "vague1.csv", header, rows[:30])
    data = path.read_bytes()
    # the 30th row starts on the physical line after the header and the 29 rows before it,
    # multi-line cells included (the demo has some among its first rows)
    line = 2 + sum(1 + sum(cell.count("\n") for cell in row) for row in rows[:29])
    start = len(b"".join(data.split(b"\n", line - 1)[: line - 1])) + line - 1  # its first byte
    cut = data.rstrip(b"\n").rfind(b";", 0, len(data) - 200)
    assert cut > start  # cut mid-row, inside the last row
    path.write_bytes(data[:cut])
    report = _validate_json(capsys, path)
    last = report["rows"][-1]
    assert (last["line"], last["reason"]) == (line, "truncated")
    assert "semble tronqué" in last["detail"] and "Exportez-le à nouveau" in last["detail"]
    assert report["summary"]["rows"] == 30 and "vide" not in last["detail"]
    assert main(["validate", str(path)]) == 0
    assert f"vague1.csv ligne {line} : ligne tronquée — dernière ligne incomplète" in (
        capsys.readouterr().out
    )


def test_half_utf8_half_cp1252_file_is_read_line_by_line(wave1, tmp_path, capsys):
    header, rows = wave1
    first = _write(tmp_path / "a.csv", header, rows[:20]).read_bytes()
    second = _write(tmp_path / "b.csv", header, rows[20:40], encoding="cp1252").read_bytes()
    path = tmp_path / "vague1.csv"
    path.write_bytes(first + second.split(b"\n", 1)[1])  # a cp1252 export pasted after a UTF-8 one
    report = _validate_json(capsys, path)
    assert report["summary"]["rows"] == 40 and report["summary"]["accepted"] >= 38
    [info] = report["files"]
    assert info["encoding"] == "utf-8+cp1252"
    assert "mêlant deux encodages" in info["notes"][0] and "CSV UTF-8" in info["notes"][0]


def test_contradictory_exports_of_one_wave_are_reported_as_conflicts(wave1, tmp_path, capsys):
    header, rows = wave1
    pca = header.index(next(h for h in header if "plan de continuité" in h))
    swapped = [list(r) for r in rows[:200]]
    for r in swapped:
        r[pca] = {"Oui": "Non", "Non": "Oui"}.get(r[pca], r[pca])
    a = _write(tmp_path / "export-lundi.csv", header, rows[:200])
    b = _write(tmp_path / "export-mardi.csv", header, swapped)
    report = _validate_json(capsys, a, b)
    [conflict] = report["conflicts"]
    changed = sum(r[pca] in ("Oui", "Non") for r in rows[:200])
    assert conflict["responses"] == conflict["answers"] == changed > 50
    assert {conflict["file"], conflict["other_file"]} == {"export-lundi.csv", "export-mardi.csv"}
    assert conflict["rule"].startswith("la réponse la plus complète est gardée")
    assert report["summary"]["conflicts"] == changed


# ------------------------------------------------------------- no crash, exit 2


def test_xlsx_that_is_a_zip_of_junk_exits_2_naming_the_file(tmp_path, capsys):
    path = tmp_path / "vague3.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<junk")
        z.writestr("xl/workbook.xml", "not xml at all")
    for argv in (["validate", str(path)], ["build", "--responses", str(path), "--out",
                                           str(tmp_path / "maps"), *BUILD]):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "vague3.xlsx : classeur .xlsx illisible" in err
        assert "enregistrez-le à nouveau" in err and "bogue" not in err
    assert not (tmp_path / "maps").exists()


def test_header_only_csv_exits_2_in_validate_and_build(wave1, tmp_path, capsys):
    path = _write(tmp_path / "vague1.csv", wave1[0], [])
    for argv in (["validate", str(path)], ["build", "--responses", str(path), "--out",
                                           str(tmp_path / "maps"), *BUILD]):  # fmt: skip
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "vague1.csv : le fichier ne contient qu’une ligne d’en-tête, aucune réponse" in err
        assert "Exportez à nouveau" in err and "KeyError" not in err
    assert not (tmp_path / "maps").exists()


def test_exports_whose_rows_are_all_rejected_exit_2_in_build(wave1, tmp_path, capsys):
    header, rows = wave1
    test_rows = [[*r[:3], "TEST - ne pas tenir compte", *r[4:]] for r in rows[:5]]
    path = _write(tmp_path / "vague1.csv", header, test_rows)
    assert main(["build", "--responses", str(path), "--out", str(tmp_path / "maps"), *BUILD]) == 2
    err = capsys.readouterr().err
    assert "Aucune réponse acceptée dans les exports : 5 ligne(s) lue(s)" in err
    assert "ligne de test : 5" in err and "barometre-geo validate" in err
    assert not (tmp_path / "maps").exists()


def test_messages_are_french_by_default_and_english_on_request(tmp_path, capsys, monkeypatch):
    missing = str(tmp_path / "absent.csv")
    assert main(["validate", missing]) == 2
    assert "barometre-geo validate : erreur :" in capsys.readouterr().err
    assert main(["--lang", "en", "validate", missing]) == 2
    assert "barometre-geo validate: error: " in capsys.readouterr().err
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    assert main(["validate", missing]) == 2
    assert "absent.csv: file not found. Check the path" in capsys.readouterr().err
    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")  # LC_ALL wins over LANG
    assert main(["validate", missing]) == 2
    assert "absent.csv : fichier introuvable. Vérifiez le chemin" in capsys.readouterr().err


def test_system_errors_and_interruptions_are_said_in_french(monkeypatch, capsys):
    import barometre_geo.cli.validate as command
    from barometre_geo.cli.main import Terminated

    def denied(args):
        raise PermissionError(13, "Permission denied", "/srv/exports/vague1.csv")

    monkeypatch.setattr(command, "run", denied)
    assert main(["validate", "vague1.csv"]) == 2
    err = capsys.readouterr().err
    assert "vague1.csv : accès refusé (Permission denied) ; vérifiez les droits" in err

    def stopped(args):
        exc = Terminated()
        exc.completed = True  # SIGTERM held back during the swap, delivered just after it
        raise exc

    monkeypatch.setattr(command, "run", stopped)
    assert main(["validate", "vague1.csv"]) == 143
    assert "arrêté (SIGTERM) ; la nouvelle sortie était déjà en place" in capsys.readouterr().err


# ------------------------------------------------- the output folder is the user's


def test_unwritable_output_folder_is_refused_before_any_work(tmp_path, capsys):
    if os.geteuid() == 0:  # root writes anywhere: a folder under a file cannot be written
        parent = tmp_path / "un-fichier"
        parent.write_text("x", encoding="utf-8")
    else:
        parent = tmp_path / "lecture-seule"
        parent.mkdir()
        parent.chmod(0o555)
    start = time.perf_counter()
    try:
        code = main(["build", "--out", str(parent / "maps"), *BUILD])
    finally:
        if parent.is_dir():
            parent.chmod(0o755)
    err = capsys.readouterr().err
    assert code == 2 and time.perf_counter() - start < 10  # before reading or computing
    assert "impossible d’écrire dans" in err and "Rien n’a été fait" in err and "--out" in err


def test_two_key_manifest_does_not_make_a_folder_a_previous_build(tmp_path, capsys):
    out = tmp_path / "maps"
    out.mkdir()
    (out / "manifest.json").write_text(
        json.dumps({"generator": "barometre-geo build", "files": [{"path": "data.db"}]}),
        encoding="utf-8",
    )
    (out / "data.db").write_bytes(b"SQLite format 3\x00 precious")
    before = _digest(out)
    assert main(["build", "--out", str(out), *BUILD]) == 2
    err = capsys.readouterr().err
    assert "ne ressemble pas à une sortie de barometre-geo" in err and "data.db" in err
    assert "Rien n’a été supprimé" in err and "--force" in err
    assert _digest(out) == before


def test_rebuild_removes_only_what_the_previous_manifest_listed(tmp_path):
    """Swap rules on a hand-made previous build (no computation: fast)."""
    from barometre_geo.build.swap import check_target, staging_folder, swap_in

    out = tmp_path / "maps"
    _previous_build(out, {"ancienne.html": "carte d’avant", "donnees/t.csv": "a\n1\n"})
    (out / "notes.txt").write_text("mes notes", encoding="utf-8")  # the user's
    (out / "img").mkdir()
    (out / "img" / "logo.png").write_bytes(b"\x89PNG")
    (out / "vide").mkdir()
    target = check_target(out, force=False)
    assert target.state == "build" and set(target.kept) == {"notes.txt", "img/logo.png", "vide/"}
    staging = staging_folder(target)
    (staging.path / "index.html").write_text("nouvelle", encoding="utf-8")
    (staging.path / "donnees").mkdir()
    (staging.path / "donnees" / "t.csv").write_text("a\n2\n", encoding="utf-8")
    (out / "ajout-pendant.txt").write_text("ajouté pendant la construction", encoding="utf-8")
    swapped = swap_in(staging, target)
    assert sorted(swapped.kept) == ["ajout-pendant.txt", "img/logo.png", "notes.txt", "vide/"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mes notes"
    assert (out / "img" / "logo.png").read_bytes() == b"\x89PNG" and (out / "vide").is_dir()
    assert (out / "ajout-pendant.txt").is_file()
    assert not (out / "ancienne.html").exists()  # listed: the previous build's, removed
    assert (out / "donnees" / "t.csv").read_text(encoding="utf-8") == "a\n2\n"
    assert not (out / ".barometre-geo-staging").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps"]  # no staging, no old folder


def _previous_build(out: Path, files: dict[str, str]) -> None:
    """A hand-made previous build: files and a manifest the build could have written."""
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    entries = [
        {"path": p, "size": (out / p).stat().st_size,
         "sha256": hashlib.sha256((out / p).read_bytes()).hexdigest()}
        for p in files
    ]  # fmt: skip
    manifest = {"generator": "barometre-geo build", "barometre_geo_version": "0", "files": entries}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def test_a_file_of_the_user_where_the_build_writes_is_refused_without_force(tmp_path):
    from barometre_geo.build.swap import check_target, discard, staging_folder, swap_in
    from barometre_geo.errors import InputFileError

    out = tmp_path / "maps"
    _previous_build(out, {"index.html": "index d’avant"})
    (out / "nouvelle.html").write_text("ma page", encoding="utf-8")  # where the build writes
    for force in (False, True):
        target = check_target(out, force=force)
        assert target.state == "build" and target.kept == ("nouvelle.html",)
        staging = staging_folder(target)
        (staging.path / "index.html").write_text("index", encoding="utf-8")
        (staging.path / "nouvelle.html").write_text("page de la construction", encoding="utf-8")
        if not force:
            with pytest.raises(InputFileError, match=r"writes nouvelle\.html.*--force") as exc:
                swap_in(staging, target)
            discard(staging)
            assert "Rien n’a été remplacé" in exc.value.fr and "--force" in exc.value.fr
            assert (out / "nouvelle.html").read_text(encoding="utf-8") == "ma page"
            assert (out / "index.html").read_text(encoding="utf-8") == "index d’avant"
        else:
            assert swap_in(staging, target).replaced == ("nouvelle.html",)
            assert (out / "nouvelle.html").read_text(encoding="utf-8") == "page de la construction"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps"]


def test_a_listed_file_modified_since_makes_the_folder_refused_without_force(tmp_path):
    from barometre_geo.build.swap import check_target
    from barometre_geo.errors import InputFileError

    out = tmp_path / "maps"
    _previous_build(out, {"index.html": "index", "donnees/t.csv": "a\n1\n"})
    (out / "index.html").write_text("index retouché à la main", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"modified since \(index\.html\)") as exc:
        check_target(out, force=False)
    assert "Rien n’a été supprimé" in exc.value.fr
    target = check_target(out, force=True)  # kept as the user's unless the build writes it
    assert target.modified == ("index.html",) and "index.html" not in target.listed


def test_stale_staging_folders_are_removed_and_reported(tmp_path, capsys):
    from barometre_geo.build.swap import LOCK, check_target

    out = tmp_path / "maps"
    dead = tmp_path / ".maps.tmp-dead0001"  # a build killed mid-way: lock file, no lock held
    (dead / "geopackages").mkdir(parents=True)
    (dead / LOCK).write_text("99999\n", encoding="utf-8")
    (dead / "geopackages" / "cyber_pca.gpkg").write_bytes(b"half")
    old = tmp_path / ".maps.tmp-old00002"  # an older version's staging (no lock), hours old
    old.mkdir()
    (old / "index.html").write_text("x", encoding="utf-8")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    target = check_target(out, force=False)
    assert not dead.exists() and not old.exists()
    assert any(".maps.tmp-dead0001" in c and "supprimé" in c for c in target.cleaned)
    assert len(target.cleaned) == 2


def test_a_target_lost_between_the_two_renames_of_a_swap_is_restored(tmp_path):
    from barometre_geo.build.swap import check_target

    old = tmp_path / ".maps.old-1234abcd"  # killed after renaming maps/ aside
    old.mkdir()
    _previous_build(old, {"index.html": "index"})
    target = check_target(tmp_path / "maps", force=False)
    assert target.state == "build" and not old.exists()
    assert (tmp_path / "maps" / "index.html").read_text(encoding="utf-8") == "index"
    assert [c for c in target.cleaned if "restauré depuis .maps.old-1234abcd" in c]


def test_a_staging_folder_locked_by_a_running_build_stops_a_second_build(tmp_path):
    from barometre_geo.build.swap import check_target, discard, staging_folder
    from barometre_geo.errors import InputFileError

    first = staging_folder(check_target(tmp_path / "maps", force=False))
    try:
        with pytest.raises(InputFileError, match="Another build is writing into") as exc:
            check_target(tmp_path / "maps", force=False)
        assert "Une autre construction écrit déjà" in exc.value.fr
    finally:
        discard(first)
    assert check_target(tmp_path / "maps", force=False).cleaned == ()


# ------------------------------------------- real builds (slow): rebuild, signals


@pytest.fixture(scope="module")
def previous(tmp_path_factory, demo_cache, demo_exports, structures_file):
    """A real build: two contradictory exports of wave 1, the hostile structures file.

    Its output is the previous output of the signal tests.
    """
    folder = tmp_path_factory.mktemp("previous")
    with open(demo_exports[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:401]
    pca = header.index(next(h for h in header if "plan de continuité" in h))
    swapped = [list(r) for r in body]
    for r in swapped:
        r[pca] = {"Oui": "Non", "Non": "Oui"}.get(r[pca], r[pca])
    a = _write(folder / "vague1-a.csv", header, body)
    b = _write(folder / "vague1-b.csv", header, swapped)
    out = folder / "maps"
    argv = ["build", "--responses", str(a), str(b), "--structures", str(structures_file),
            "--out", str(out), "--indicator", "cyber_pca", "--indicator", "cyber_pra",
            "--level", "region", "--jobs", "1"]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAROMETRE_GEO_CACHE", str(demo_cache))
        buf_out, buf_err = io.StringIO(), io.StringIO()
        mp.setattr(sys, "stdout", buf_out)
        mp.setattr(sys, "stderr", buf_err)
        code = main([*argv, "--quiet"])
    assert code == 1, buf_err.getvalue()  # the structures file's problems are to look at
    return {"out": out, "summary": buf_out.getvalue(), "inputs": [a, b], "argv": argv}


@pytest.mark.slow
def test_build_reports_conflicts_and_structures_and_writes_no_machine_path(
    previous, structures_file
):
    summary = previous["summary"]
    assert "contredisant une autre réponse de la même collectivité" in summary
    assert "À vérifier" in summary and "structures-problemes.csv" in summary
    out = previous["out"]
    text = (out / "rapports" / "import.txt").read_text(encoding="utf-8")
    assert "vague1-b.csv / vague1-a.csv" in text or "vague1-a.csv / vague1-b.csv" in text
    with open(out / "rapports" / "structures-problemes.csv", encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'+Syndicat plus" in cells and "'@SOMME(A1)" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert [c for c in cells if "vouliez-vous dire « exclus »" in c]
    resume = json.loads((out / "rapports" / "couverture-resume.json").read_text("utf-8"))
    assert resume["structures_source"] == "structures.csv"
    roots = {str(out.parent), str(structures_file.parent), str(Path.cwd()), str(Path.home()),
             sys.prefix}  # fmt: skip
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for root in roots:
                assert root.encode() not in data, (path.name, root)


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie is dead, waiting to be reaped


def _start_build(out: Path, demo_cache: Path, inputs):
    env = {**os.environ, "BAROMETRE_GEO_CACHE": str(demo_cache)}
    cmd = [sys.executable, "-m", "barometre_geo", "build", "--responses", *map(str, inputs),
           "--out", str(out), "--theme", "cyber", "--theme", "inclusion", "--jobs", "2",
           "--quiet"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 300
    while not (list(out.parent.glob(".maps.tmp-*/geopackages/*.gpkg")) and _children(proc.pid)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    return proc, _children(proc.pid)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl: Linux")
def test_sigterm_cleans_up_exits_143_and_leaves_no_worker(previous, tmp_path, demo_cache):
    out = tmp_path / "maps"
    shutil.copytree(previous["out"], out)
    before = _digest(out)
    proc, workers = _start_build(out, demo_cache, previous["inputs"])
    assert workers
    proc.send_signal(signal.SIGTERM)  # the main process only, as systemd or docker stop do
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "arrêté (SIGTERM)" in err and "Traceback" not in err
    assert _digest(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".maps.")]
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl: Linux")
def test_workers_die_with_a_killed_parent_and_the_next_build_tidies(previous, tmp_path, demo_cache):
    from barometre_geo.build.swap import check_target

    out = tmp_path / "maps"
    shutil.copytree(previous["out"], out)
    before = _digest(out)
    proc, workers = _start_build(out, demo_cache, previous["inputs"])
    assert workers
    os.kill(proc.pid, signal.SIGKILL)  # no cleanup possible in the parent
    proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "orphan workers still running"
    assert _digest(out) == before
    [stale] = [p for p in tmp_path.iterdir() if p.name.startswith(".maps.tmp-")]
    target = check_target(out, force=False)  # what the next build does first
    assert not stale.exists()
    assert [c for c in target.cleaned if stale.name in c and "supprimé" in c]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl: Linux")
def test_a_worker_of_any_pool_dies_when_its_parent_is_killed(tmp_path):
    """The initializer of both pools (maps, models), on a parent killed with SIGKILL."""
    code = (
        "import multiprocessing as mp, os, sys, time\n"
        "from barometre_geo._workers import die_with_parent\n"
        "def nap(_):\n"
        "    time.sleep(600)\n"
        "if __name__ == '__main__':\n"
        "    pool = mp.get_context('fork').Pool(2, initializer=die_with_parent,\n"
        "                                       initargs=(os.getpid(),))\n"
        "    pool.map_async(nap, [1, 2])\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(600)\n"
    )
    script = tmp_path / "parent.py"
    script.write_text(code, encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "orphan workers still running"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork")
def test_model_workers_close_quietly_under_the_cli_sigterm_handler(tmp_path):
    """Pool.terminate sends SIGTERM: the workers must not run the CLI's handler (it raised
    Terminated in an idle worker: a traceback after the build, or a pool that never closed)."""
    code = (
        "import signal\n"
        "from types import SimpleNamespace\n"
        "from barometre_geo.cli.main import _on_sigterm\n"
        "from barometre_geo.indicators import modelled\n"
        "def double(task):\n"
        "    return 2 * task[0]\n"
        "if __name__ == '__main__':\n"
        "    signal.signal(signal.SIGTERM, _on_sigterm)\n"
        "    modelled._model_plan = double\n"
        "    plans = [SimpleNamespace(sensitive=i % 2 == 0) for i in range(6)]\n"
        "    for _ in range(10):\n"
        "        fits = modelled.Fits(plans=plans, inds=None, geo=None,\n"
        "                             todo=[(i, ()) for i in range(6)])\n"
        "        fits.start(list(range(6)))\n"
        "        assert fits.results({}) == [0, 2, 4, 6, 8, 10]\n"
        "        fits.close()\n"
        "    print('ok', flush=True)\n"
    )
    script = tmp_path / "parent.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.stdout.strip() == "ok" and "Traceback" not in done.stderr, done.stderr


# ------------------------------------------------------------ structures files


HOSTILE_STRUCTURES = (
    "nom;departements;membres;exlus;wkt\n"
    '"=HYPERLINK(""http://evil.example/"";""clic"")";01;;01053;\n'
    "+Syndicat plus;;@SOMME(A1);;\n"
    "Agence papillon;;;;"
    '"POLYGON ((4.80 45.70, 4.90 45.80, 4.90 45.70, 4.80 45.80, 4.80 45.70))"\n'
    'Agence ouverte;;;;"POLYGON ((5.0 45.0, 5.2 45.0, 5.2 45.2))"\n'
)


@pytest.fixture(scope="module")
def structures_file(tmp_path_factory) -> Path:
    """A structures file with every defect of the attack."""
    path = tmp_path_factory.mktemp("structures") / "structures.csv"
    path.write_text(HOSTILE_STRUCTURES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def structures_read(structures_file, territories):
    from barometre_geo.coverage.structures import read_structures
    from barometre_geo.errors import DataQualityWarning

    with pytest.warns(DataQualityWarning) as caught:
        s = read_structures(structures_file, territories=territories)
    return s, [w.message for w in caught]


def test_structures_misspelt_column_is_reported_with_the_closest_name(structures_read):
    s, caught = structures_read
    [issue] = s.report.issues[s.report.issues["issue"] == "unknown_column"].to_dict("records")
    assert issue["field"] == "exlus" and issue["value"] == "exclus"
    assert issue["severity"] == "warning"  # counts as a problem: exit 1
    assert "vouliez-vous dire « exclus » ?" in issue["message"]
    assert any("colonne(s) mal nommée(s)" in (w.fr or "") for w in caught)
    row = s.data.set_index("nom").loc['=HYPERLINK("http://evil.example/";"clic")']
    assert row["n_communes"] > 300  # 01053 not excluded: the coverage the file gives, reported


def test_structures_invalid_geometries_are_repaired_and_reported(structures_read):
    s, _ = structures_read
    text = s.report.to_text()
    assert "polygone invalide (structures.csv, line 4) : le contour se recoupe au point" in text
    assert "réparé avec shapely.make_valid" in text
    assert "anneau non fermé (structures.csv, line 5)" in text and "refermé" in text
    assert "IllegalArgumentException" not in text and "LinearRing" not in text
    served = s.data.set_index("nom")["n_communes"]
    assert served["Agence papillon"] > 0 and served["Agence ouverte"] > 0  # repaired, used


def test_structures_problems_table_neutralises_formulas(structures_read, tmp_path):
    from barometre_geo._tables import write_csv

    s, _ = structures_read
    path = write_csv(s.report.warnings, tmp_path / "structures-problemes.csv")
    with open(path, encoding="utf-8", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'+Syndicat plus" in cells and "'@SOMME(A1)" in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert s.report.source == "structures.csv"  # named without its folder


def test_every_csv_writer_of_the_package_neutralises_formulas():
    """One helper writes every CSV/XLSX output: no other writer in the package."""
    root = Path(__file__).resolve().parents[1] / "barometre_geo"
    writers = ("to_csv(", "csv.writer(", "to_excel(", "openpyxl.Workbook(", "DictWriter(")
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "_tables.py" or rel.startswith("demo/"):  # the helper; platform imitations
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{rel}: {w}" for w in writers if w in text]
    assert offenders == []
