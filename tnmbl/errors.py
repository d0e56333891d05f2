"""Exception classes of tnmbl.

Every error names what is wrong, the value that was given, the rule it breaks and, where
there is one, the fix. They subclass ``ValueError`` (or ``RuntimeError``) so generic
handlers still catch them.
"""


class TnmblError(Exception):
    """Base class of all tnmbl errors."""


class ModelError(TnmblError, ValueError):
    """A chain or model was declared inconsistently (bad L, strength array length, ...)."""


class StateError(TnmblError, ValueError):
    """An initial state does not fit its chain (occupation above n_max, wrong length, ...)."""


class OptionError(TnmblError, ValueError):
    """An evolution option is out of range or unknown (dt <= 0, chi_max < 1, ...)."""


class ObservableError(TnmblError, ValueError):
    """An observable name is unknown or cannot be measured for this chain / engine."""


class ConfigError(TnmblError, ValueError):
    """A run configuration failed validation; ``.problems`` lists every problem found."""

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in the configuration:\n  - "
            + "\n  - ".join(self.problems)
        )


class ConvergenceError(TnmblError, RuntimeError):
    """A health figure (energy error, truncation error, ...) passed its threshold."""


def fail(cls, key, value, rule, fix=None):
    """Raise ``cls`` with the standard message ``key = value: rule. fix``."""
    msg = f"{key} = {value!r}: {rule}"
    if fix:
        msg += f". Fix: {fix}"
    raise cls(msg)
