"""Small-count protection on the demo edition: every level, every breakdown, the audit.

The demo's ~3,400 responses make the SVD audit of ``assert_no_disclosure`` cost a few
seconds per indicator: the regression test audits the indicators the nesting rules
alone left open to a linked-table reading (measured before the audit existed), plus a
sensitive one. Counts per reason before / after the audit, over every indicator, are
printed by ``benchmarks/bench_aggregate.py``.
"""

from __future__ import annotations

import json
import warnings

import pytest

import barometre_geo as bg
from barometre_geo.testing import assert_no_disclosure

LEVELS = ["commune", "epci", "departement", "region", "france"]
BY = ["stratum", "profile", "type_label", "kind"]
#: Linked-table leaks of the nesting rules alone on the demo (k = 5), and a sensitive one.
AUDITED = ["infra_wifi_territorial", "donnees_api", "inclusion_actions_types", "outils_vpn"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return bg.load_demo(cache_dir=tmp_path_factory.mktemp("demo"))


def aggregate(responses, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bg.errors.DataQualityWarning)
        return bg.aggregate(responses, **kw)


@pytest.mark.slow
def test_demo_with_every_breakdown_passes_the_exact_audit(demo, territories):
    from barometre_geo.stats.weighting import calibration_weights

    weights = calibration_weights(demo, territories)
    t = aggregate(
        demo, level=LEVELS, by=BY, indicators=AUDITED, weights=weights, territories=territories
    )
    prot = t.attrs["barometre_geo"]["protection"]
    assert prot["audit_added"] > 0  # the nesting rules alone were not enough here
    assert t.attrs["barometre_geo"]["weighted_withheld"] > 0
    for ind in AUDITED:
        k = 10 if bg.load_catalogue().get(ind).sensitive else 5
        rows = t[t["indicator"] == ind]
        assert_no_disclosure(rows, demo, k=k, territories=territories, weights=weights)


def test_demo_tables_carry_the_edition_and_the_synthetic_flag(demo, territories, tmp_path):
    t = aggregate(demo, level="region", indicators="inclusion_cnfs", territories=territories)
    meta = t.attrs["barometre_geo"]
    assert meta["edition"] == demo.edition and meta["synthetic"] is True
    json.dumps(meta)  # still JSON-able (metadonnees.json)
    # a map made without synthetic= says so, from the table alone
    out = bg.static_map(
        t,
        territories,
        indicator="inclusion_cnfs",
        level="region",
        path=tmp_path / "carte.svg",
        basemap="none",
    )
    assert "DONNÉES SYNTHÉTIQUES" in out.path.read_text(encoding="utf-8")
