"""Nightly convergence suite: the ``report`` fixture, and the report written at session end
(see :mod:`nightly_helpers`)."""

import pytest
from nightly_helpers import Report, write_report


@pytest.fixture(scope="session")
def report():
    return Report()


def pytest_sessionfinish(session, exitstatus):
    write_report()
