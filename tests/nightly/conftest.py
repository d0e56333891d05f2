"""Nightly convergence suite: the ``report`` fixture, and the report written at session end
(see :mod:`helpers`)."""

import pytest
from helpers import Report, write_report


@pytest.fixture(scope="session")
def report():
    return Report()


def pytest_sessionfinish(session, exitstatus):
    write_report()
