"""Fuzzing in CI: a few hundred generated inputs for the plan reader and each survey format.

Every input is either read or refused with a typed ``InputError`` — never a traceback. The
generators (``fuzzcases.py``) are shared with ``benchmarks/fuzz.py``, which runs 10,000 cases
per target and measures time and memory; here hypothesis drives them (derandomized, so CI is
reproducible; a failure prints the shrunk random choices).
"""
from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fuzzcases

EXAMPLES = {"plan": 80, "csv": 60, "xlsx": 40, "gpx": 50, "kml": 50, "kmz": 40}


def _fuzz(target: str):
    @settings(max_examples=EXAMPLES[target], deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(rng=st.randoms(use_true_random=False))
    def run(tmp_path, rng):
        suffix, data = fuzzcases.TARGETS[target](rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = fuzzcases.write_case(suffix, data, tmp_path)
            assert fuzzcases.run_case(target, path) in ("ok", "refused")
    return run


@pytest.mark.parametrize("target", sorted(EXAMPLES))
def test_reader_never_raises_an_untyped_error(target, tmp_path):
    _fuzz(target)(tmp_path)
