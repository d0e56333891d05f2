"""Fixtures of the sweep tests."""

import pytest
from helpers import sweep_raw

from tnmbl.runs.sweep import plan_sweep, read_summary, run_sweep


@pytest.fixture(scope="session")
def clean_sweep(tmp_path_factory):
    """The test sweep run once, uninterrupted, on 2 local worker processes: (plan, summary dict)."""
    out = tmp_path_factory.mktemp("clean") / "sweep"
    plan = plan_sweep(sweep_raw(out), name="clean", workers=2)
    res = run_sweep(plan)
    assert not res["failed"], res["failed"]
    assert set(res["actions"].values()) == {"run"}
    return plan, read_summary(res["summary"])
