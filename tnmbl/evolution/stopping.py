"""An early stop checked at output rows: ``stop once <observable> has stayed at or above
<above> for <for_factor> times the time it first got there``.

The relaxation function phi of the glassy-dynamics Fig. 2 rises from 0 to 1; its t0 is the
time phi first reaches 0.9, and t0 spans four decades over the couplings, so one fixed
``t_final`` per coupling either wastes most of the run or stops before the crossing. With
``StopWhen("phi", above=0.9, for_factor=2.0)`` a run stops at the first output row at or
after ``2 * t_cross``, where ``t_cross`` is the start of the current stretch of rows at or
above 0.9 (a dip below the level starts the stretch again).

The rule reads the mean of the observable over its positions at each row (phi has one
position), so it is a function of the rows alone: a resumed run replays the stored rows
(:meth:`StopWhen.replay`) and stops where the straight run would have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import OptionError, fail


@dataclass
class StopWhen:
    """The stop rule (see the module docstring); :meth:`update` it with every output row in order."""

    observable: str
    above: float
    for_factor: float = 2.0
    t_cross: float | None = field(default=None, init=False)
    t_stop: float | None = field(default=None, init=False)
    _last: float = field(default=-math.inf, init=False, repr=False)

    def __post_init__(self):
        for key, value, ok, rule in (("above", self.above, math.isfinite(self.above), "must be a finite number"),
                                     ("for_factor", self.for_factor,
                                      math.isfinite(self.for_factor) and self.for_factor >= 1, "must be >= 1")):
            if not ok:
                fail(OptionError, f"stop_when.{key}", value, rule, "e.g. stop_when: {observable: phi, above: 0.9, "
                     "for_factor: 2.0}")

    def update(self, time, value):
        """Feed the row at ``time`` (``value``: the observable's row, any shape); ``True`` once the
        run should stop at this row. Rows at or before the last one fed are ignored (a resumed
        run recomputes a few stored rows)."""
        if time <= self._last:
            return self.t_stop is not None
        self._last = time
        if self.t_stop is not None:
            return True
        if float(np.mean(value)) >= self.above:
            if self.t_cross is None:
                self.t_cross = float(time)
            if time > self.t_cross and time >= self.for_factor * self.t_cross:
                self.t_stop = float(time)
                return True
        else:
            self.t_cross = None
        return False

    def replay(self, times, values):
        """Feed stored rows (``values``: one row per time); ``True`` if they already stop."""
        stop = False
        for t, v in zip(times, values):
            stop = self.update(float(t), v)
        return stop

    def record(self):
        """What the results file keeps (attribute ``stopped_early``)."""
        return {"observable": self.observable, "above": self.above, "for_factor": self.for_factor,
                "t_cross": self.t_cross, "t_stop": self.t_stop}
