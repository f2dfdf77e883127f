"""Debian's QGIS (python3-qgis, system python) opening a GeoPackage layer, for style tests."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

#: Opens ``sys.argv[1]`` layer ``sys.argv[2]`` with its default style and counts the
#: legend key of each feature (``keys``); a test appends what it prints (``out``).
QGIS_HEAD = r"""
import json, sys
from collections import Counter
from qgis.core import QgsApplication, QgsMapSettings, QgsRenderContext, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
lyr = QgsVectorLayer(sys.argv[1] + "|layername=" + sys.argv[2], "layer", "ogr")
r = lyr.renderer()
settings = QgsMapSettings()
settings.setLayers([lyr])
settings.setDestinationCrs(lyr.crs())
settings.setExtent(lyr.extent())
ctx = QgsRenderContext.fromMapSettings(settings)
r.startRender(ctx, lyr.fields())
keys = Counter()
for f in lyr.getFeatures():
    ctx.expressionContext().setFeature(f)
    keys[",".join(r.legendKeysForFeature(f, ctx))] += 1
r.stopRender(ctx)
out = {"valid": lyr.isValid(), "crs": lyr.crs().authid(), "renderer": r.type(), "keys": keys}
"""
QGIS_TAIL = r"""
print(json.dumps(out), flush=True)
del r, lyr
app.exitQgis()
"""


def system_qgis() -> str | None:
    """The system python that has QGIS's bindings, or None."""
    for exe in ("/usr/bin/python3", shutil.which("python3")):
        if (
            exe
            and subprocess.run([exe, "-c", "import qgis.core"], capture_output=True).returncode == 0
        ):
            return exe
    return None


def run_qgis(exe: str, body: str, gpkg, layer: str, tmp_path) -> dict:
    """Run QGIS_HEAD + ``body`` + QGIS_TAIL on one layer; return what it printed.

    What QGIS wrote on stderr (its warnings) comes under ``"stderr"``.
    """
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path))  # fmt: skip
    done = subprocess.run([exe, "-c", QGIS_HEAD + body + QGIS_TAIL, str(gpkg), layer], env=env,
                          capture_output=True, text=True, timeout=180, check=True)  # fmt: skip
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr}
