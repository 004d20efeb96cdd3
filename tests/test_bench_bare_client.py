"""The bare-client reference (python -m bench.bare_client) runs against the simulator."""

from __future__ import annotations

import math
import warnings

from bench import bare_client


def test_the_bare_client_reference_times_node_bare_client_and_floor_in_one_run() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's non-writable-array notice
        best = bare_client.measure(1, (1, 256, 384), warmup=0)
    assert set(best) == {"node", "bare", "floor"}
    assert all(0 < seconds < 5 and math.isfinite(seconds) for seconds in best.values())
