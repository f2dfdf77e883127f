"""Regenerate ``barometre_geo/maps/data/palettes.json`` from ColorBrewer.

The per-class ColorBrewer arrays come from the npm package ``colorbrewer``
(Cynthia Brewer's schemes, Apache-2.0), pinned by version and sha256. Fetch it
with the ordinary npm client, then run this script on the tarball::

    npm pack colorbrewer@1.7.0
    python tools/build_palettes.py colorbrewer-1.7.0.tgz

Colour-blind safety follows ColorBrewer 2.0's own marks: every sequential
scheme is safe; among diverging ones only BrBG, PiYG, PRGn, PuOr and RdBu are
safe at every class count; qualitative schemes are not (they are kept for
categorical maps with few categories, where labels carry the category too).
Okabe & Ito's qualitative palette (Wong, *Nature Methods* 8, 441, 2011) is
added for categorical maps: it was designed to stay distinct for the common
colour-vision deficiencies.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tarfile
from pathlib import Path

VERSION = "1.7.0"
SHA256 = "33fabd6ca61ec006f32a3f420293f0b872a9b12c900535690eed2dc656643ef7"
OUT = Path(__file__).resolve().parents[1] / "barometre_geo" / "maps" / "data" / "palettes.json"

SEQUENTIAL = {
    "Blues", "Greens", "Greys", "Oranges", "Purples", "Reds", "BuGn", "BuPu", "GnBu",
    "OrRd", "PuBu", "PuBuGn", "PuRd", "RdPu", "YlGn", "YlGnBu", "YlOrBr", "YlOrRd",
}  # fmt: skip
DIVERGING_SAFE = {"BrBG", "PiYG", "PRGn", "PuOr", "RdBu"}
QUALITATIVE = {"Dark2", "Paired", "Set2"}
OKABE_ITO = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7", "#000000"]


def parse(js: str) -> dict[str, dict[int, list[str]]]:
    """Return ``{scheme: {k: [hex, ...]}}`` from the package's ``index.js``."""
    out: dict[str, dict[int, list[str]]] = {}
    for name, body in re.findall(r"(\w+): \{\s*((?:\d+: \[[^\]]*\],?\s*)+)\}", js):
        out[name] = {
            int(k): re.findall(r"#[0-9a-fA-F]{6}", colours)
            for k, colours in re.findall(r"(\d+): \[([^\]]*)\]", body)
        }
    return out


def main(tarball: str) -> None:
    """Check the tarball's hash, parse it and write the palette file."""
    data = Path(tarball).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        sys.exit(f"{tarball}: sha256 {digest} does not match the pinned {SHA256}")
    with tarfile.open(tarball) as tar:
        js = tar.extractfile("package/index.js").read().decode("utf-8")
    schemes = parse(js)
    palettes = []
    for name in sorted(SEQUENTIAL | DIVERGING_SAFE | QUALITATIVE):
        kind = (
            "sequential"
            if name in SEQUENTIAL
            else "diverging"
            if name in DIVERGING_SAFE
            else "qualitative"
        )
        palettes.append(
            {
                "name": name,
                "kind": kind,
                "colorblind_safe": kind != "qualitative",
                "colors": {str(k): [c.lower() for c in v] for k, v in schemes[name].items()},
            }
        )
    palettes.append(
        {
            "name": "OkabeIto",
            "kind": "qualitative",
            "colorblind_safe": True,
            "colors": {str(k): OKABE_ITO[:k] for k in range(2, len(OKABE_ITO) + 1)},
        }
    )
    doc = {
        "source": f"ColorBrewer 2.0 schemes, npm package colorbrewer@{VERSION} (sha256 {SHA256});"
        " Okabe & Ito (Wong 2011, Nature Methods 8:441)",
        "licence": "Apache-2.0 (ColorBrewer, Cynthia Brewer, Pennsylvania State University)",
        "generated_by": "tools/build_palettes.py",
        "palettes": palettes,
    }
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(palettes)} palettes to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
