"""The synthetic demo edition: real collectivities, invented answers, published figures kept.

Apart from the pipeline: it *produces* inputs (raw export files, defects
included) that the survey stage reads like any real export.

Modules: ``edition`` (:func:`load_demo`, :func:`write_demo_exports`), ``sample``
(who answers which wave), ``targets`` and ``answers`` (the answer model,
calibrated on the published figures), ``people`` (fictional respondents),
``write`` and ``xlsx`` (raw files in the barometer's export format).
Data contract: ``docs/contracts/demo.md``.
"""

from .edition import DEMO_EDITION, DEMO_SEED, demo_files, load_demo, write_demo_exports

__all__ = ["DEMO_EDITION", "DEMO_SEED", "demo_files", "load_demo", "write_demo_exports"]
