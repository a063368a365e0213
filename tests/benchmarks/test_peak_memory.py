"""A benchmark child's peak memory is its own, not the parent's that started it."""

import json
import subprocess
import sys

import numpy as np
import pytest

from benchmarks.common import ROOT

PARENT_BYTES = 1_500_000_000

CHILD = """
import json, resource
from benchmarks.results import peak_memory_bytes
print(json.dumps({"peak": peak_memory_bytes(),
                  "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="VmHWM and exec semantics of Linux"
)
def test_a_child_started_by_a_large_parent_reports_its_own_peak():
    ballast = np.ones(PARENT_BYTES // 8)  # resident: every page written
    done = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    # The child imports torch and little else: far below the parent's 1.5 GB.
    assert measured["peak"] < PARENT_BYTES / 2, measured
    assert ballast.sum() == PARENT_BYTES // 8
