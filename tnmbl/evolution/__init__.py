"""Drivers: everything that runs an engine over time, above the engines and states.

* :mod:`~tnmbl.evolution.driver`: the one :class:`Evolution` over the engine protocol and
  :func:`evolve` (every method, quantum and classical);
* :mod:`~tnmbl.evolution.probes`: how rows are measured (local operators, classical batches);
* :mod:`~tnmbl.evolution.rows`: :class:`Row`, :class:`Result`, :func:`collect`, :func:`load`;
* :mod:`~tnmbl.evolution.resultsio`: the results-file format (one reader for runs and the API);
* :mod:`~tnmbl.evolution.figures`: the overview figure of a result;
* :mod:`~tnmbl.evolution.mixed`: mixed bubbles (purification) through the same driver;
* :mod:`~tnmbl.evolution.ensembles`: :func:`ensemble_average` over pure-state runs;
* :mod:`~tnmbl.evolution.thermalize`: Langevin thermalization of classical batches;
* :mod:`~tnmbl.evolution.correlations`: thermal two-time correlations (purification, exact);
* :mod:`~tnmbl.evolution.classical`: the classical-only entry points kept for their users.
"""

from .classical import ClassicalEvolution, evolve_classical
from .driver import DEFAULT_OBSERVABLES, DEFAULTS, UNSET, Evolution, check_options, evolve, resolve_conserve
from .ensembles import EnsembleResult, ensemble_average
from .mixed import MixedEvolution, evolve_mixed
from .rows import HEALTH_UNITS, Result, Row, collect, load, number
from .thermalize import langevin, thermalized

__all__ = ["DEFAULTS", "DEFAULT_OBSERVABLES", "HEALTH_UNITS", "UNSET", "ClassicalEvolution", "EnsembleResult",
           "Evolution", "MixedEvolution", "Result", "Row", "check_options", "collect", "ensemble_average", "evolve",
           "evolve_classical", "evolve_mixed", "langevin", "load", "number", "resolve_conserve", "thermalized"]
