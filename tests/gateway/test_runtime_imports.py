"""The running gateway does not load scikit-learn or SciPy's optimisers (a second of start-up)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sklearn", "scipy.optimize", "scipy.stats")

# Imports what `onethread serve` imports, then builds engines down both fitting paths (the
# kernel fit, the primal fit, nearest neighbours) and answers a query, so a lazy import inside
# the engine shows up too. A fresh interpreter: pytest itself may have loaded anything.
SCRIPT = """
import json, sys
import gateway.app, gateway.cli
from knowledge.content import load_folder
from knowledge.engine import Engine
from tests.knowledge.conftest import DEMO, HashingEncoder

kb = load_folder(DEMO)
for options in ({}, {"kernel_limit": 0}, {"max_linear_classes": 10}):
    Engine.build(kb, HashingEncoder(), **options).analyze("how long does shipping take")
print(json.dumps(sorted(sys.modules)))
"""


def test_serving_loads_no_sklearn_or_scipy_optimize() -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    loaded = json.loads(run.stdout.splitlines()[-1])
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY or m.startswith(HEAVY)]
    assert heavy == []
