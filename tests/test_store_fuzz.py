"""Issue 10 item 2/3: damaged and hostile store files never give a traceback, never stop the
atlas, and never make the store touch a file it did not create (hypothesis drives the seeds;
``benchmarks/store_fuzz.py`` runs 10,000 cases)."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store_fuzzing import run_case, template
from test_sites_data import point_features, survey_features

PTS = point_features(survey_features())[:10]


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> bytes:
    return template(Path(tmp_path_factory.mktemp("tmpl")) / "store.gpkg", PTS)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_damaged_bytes(valid, seed):
    assert run_case(valid, seed, PTS, sql=False) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_hostile_values(valid, seed):
    assert run_case(valid, seed, PTS, sql=True) == []
