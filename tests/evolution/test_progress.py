"""Progress and logging in Python: ``len(Evolution)``, ``evolve(progress=...)``,
the ``tnmbl`` logger (silent by default)."""

import logging

import pytest

import tnmbl


@pytest.fixture(scope="module")
def small():
    chain = tnmbl.models.bose_hubbard(L=4, U=1.0, g=0.2, n_max=2)
    return chain, tnmbl.states.product(chain, occupations=[2, 2, 0, 0])


@pytest.mark.parametrize("opts", [dict(output_dt=0.1), dict(), dict(n_log=5)])
def test_len_is_the_number_of_rows(small, opts):
    chain, psi = small
    ev = tnmbl.Evolution(chain, psi, "exact", dt=0.05, t_final=1.0, observables=["density"], **opts)
    n = len(ev)
    assert n == len(list(ev)) and n == len(ev.output_steps)


def test_progress_bar_rich_shows_rows_chi_truncation_eta(small, capsys):
    chain, psi = small
    res = tnmbl.evolve(chain, psi, "tebd2", dt=0.05, t_final=0.3, output_dt=0.1, observables=["density"],
                       progress=True)
    err = capsys.readouterr().err
    assert f"{len(res.times)}/{len(res.times)}" in err
    assert "chi=" in err and "trunc=" in err and "ETA" in err


def test_progress_bar_tqdm(small, capsys):
    pytest.importorskip("tqdm")
    chain, psi = small
    tnmbl.evolve(chain, psi, "tebd2", dt=0.05, t_final=0.2, output_dt=0.1, observables=["density"],
                 progress="tqdm")
    err = capsys.readouterr().err
    assert "chi=" in err and "3/3" in err


def test_progress_off_by_default_when_not_a_terminal(small, capsys):
    chain, psi = small
    tnmbl.evolve(chain, psi, "tebd2", dt=0.05, t_final=0.2, observables=["density"])
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_progress_option_is_checked(small):
    chain, psi = small
    with pytest.raises(tnmbl.OptionError) as err:
        tnmbl.evolve(chain, psi, "exact", dt=0.05, t_final=0.1, progress="bar")
    assert err.value.key == "progress" and err.value.fix


def test_logging_to_the_tnmbl_logger(small, caplog):
    chain, psi = small
    with caplog.at_level(logging.DEBUG, logger="tnmbl"):
        res = tnmbl.evolve(chain, psi, "exact", dt=0.05, t_final=0.2, output_dt=0.1, observables=["density"])
    mine = [r for r in caplog.records if r.name.startswith("tnmbl")]
    assert mine[0].levelno == logging.INFO and "exact" in mine[0].getMessage()
    assert sum(r.levelno == logging.DEBUG for r in mine) == len(res.times)
    assert "done" in mine[-1].getMessage()


def test_the_package_logger_is_silent_unconfigured():
    logger = logging.getLogger("tnmbl")
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert logger.getEffectiveLevel() > logging.INFO or not logging.getLogger().handlers
