"""Exception classes of tnmbl.

Every error names what is wrong (``key``), the value that was given (``value``), the rule it
breaks (``rule``) and, where there is one, the fix (``fix``). These are attributes: code that
needs the key (the config layer mapping an engine's complaint to a config path, a GUI, a
test) reads ``exc.key``, never the message text. They subclass ``ValueError`` (or
``RuntimeError``) so generic handlers still catch them.

Messages never render more than they print: a value's ``repr`` is cut to
:data:`MAX_SHOWN` characters *before* it is built in full where the type allows it
(strings, containers), so a huge value (an expanded YAML alias bomb) costs nothing to report.
"""

from __future__ import annotations

import reprlib

MAX_SHOWN = 120
"""Longest value text an error message shows."""

_repr = reprlib.Repr()
_repr.maxstring = MAX_SHOWN
_repr.maxother = MAX_SHOWN
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 8
_repr.maxlevel = 3


def show(value):
    """A short text of ``value`` for a message: at most about :data:`MAX_SHOWN` characters,
    built without rendering the whole value (``reprlib``)."""
    text = _repr.repr(value)
    return text if len(text) <= MAX_SHOWN + 3 else text[:MAX_SHOWN] + "..."


class TnmblError(Exception):
    """Base class of all tnmbl errors.

    Attributes
    ----------
    key : str or None
        The option, parameter or config path that is wrong (``"dt"``, ``"evolution.dt"``).
    value : object
        The value given (``None`` when the key is missing or the error is not about one value).
    rule : str or None
        The rule broken, in words.
    fix : str or None
        What to do instead, when there is one answer.
    """

    key = None
    value = None
    rule = None
    fix = None

    @classmethod
    def make(cls, key, value, rule, fix=None):
        """An error of this class with the standard message ``key = value: rule. Fix: fix``."""
        msg = f"{key} = {show(value)}: {rule}"
        if fix:
            msg += f". Fix: {fix}"
        exc = cls(msg)
        exc.key, exc.value, exc.rule, exc.fix = key, value, rule, fix
        return exc


class ModelError(TnmblError, ValueError):
    """A chain or model was declared inconsistently (bad L, strength array length, ...)."""


class StateError(TnmblError, ValueError):
    """An initial state does not fit its chain (occupation above n_max, wrong length, ...)."""


class OptionError(TnmblError, ValueError):
    """An evolution option is out of range, unknown, or not taken by the method."""


class ObservableError(TnmblError, ValueError):
    """An observable name is unknown or cannot be measured for this chain / engine."""


class Problem(str):
    """One problem of a configuration: the dotted config ``key``, the ``value``, the ``rule``
    and the ``fix`` as attributes; the string itself is the line a user reads
    (``key = value: rule; fix``), so a list of problems prints and joins like text."""

    key = value = rule = fix = None

    def __new__(cls, key, value=None, rule="", fix=None, *, text=None):
        if text is None:
            text = f"{key} = {show(value)}: {rule}" if key else rule
            if fix:
                text += f"; {fix}"
        self = super().__new__(cls, text)
        self.key, self.value, self.rule, self.fix = key, value, rule, fix
        return self

    @classmethod
    def from_error(cls, exc, prefix=None, *, key=None, suffix=""):
        """The problem an engine / model / state error stands for, its key moved under the config
        section ``prefix`` (``"evolution"``); ``key`` overrides the error's own key."""
        k = key if key is not None else getattr(exc, "key", None)
        path = f"{prefix}.{k}" if (prefix and k) else (k or prefix)
        if getattr(exc, "rule", None) is not None:
            text = f"{path} = {show(exc.value)}: {exc.rule}" + (f"; {exc.fix}" if exc.fix else "")
            return cls(path, exc.value, exc.rule, exc.fix, text=text + suffix)
        text = (f"{path}: {exc}" if path else str(exc)) + suffix
        return cls(path, None, str(exc), text=text)


class ConfigError(TnmblError, ValueError):
    """A run configuration failed validation; ``.problems`` lists every problem found
    (:class:`Problem` objects; plain strings are accepted and wrapped)."""

    def __init__(self, problems):
        if isinstance(problems, (str, Problem)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem(None, rule=str(p), text=str(p)) for p in problems]
        if len(self.problems) == 1 and self.problems[0].key:
            p = self.problems[0]
            self.key, self.value, self.rule, self.fix = p.key, p.value, p.rule, p.fix
        super().__init__(
            f"{len(self.problems)} problem(s) in the configuration:\n  - "
            + "\n  - ".join(self.problems)
        )

    @property
    def keys(self):
        """The config keys of the problems (``None`` for a problem not about one key)."""
        return [p.key for p in self.problems]


class ConvergenceError(TnmblError, RuntimeError):
    """A health figure (energy error, truncation error, ...) passed its threshold."""


class AnalysisWarning(UserWarning):
    """An analysis result is not what it looks like (a NaN because a level was never crossed, a
    front stuck at the chain's edge); ``key`` / ``value`` / ``rule`` / ``fix`` as for errors."""

    key = value = rule = fix = None


def warn(key, value, rule, fix=None, *, stacklevel=3):
    """Warn with an :class:`AnalysisWarning` carrying ``key``, ``value``, ``rule`` and ``fix``."""
    import warnings

    msg = f"{key} = {show(value)}: {rule}" + (f". Fix: {fix}" if fix else "")
    w = AnalysisWarning(msg)
    w.key, w.value, w.rule, w.fix = key, value, rule, fix
    warnings.warn(w, stacklevel=stacklevel)


def fail(cls, key, value, rule, fix=None):
    """Raise ``cls`` with ``key``, ``value``, ``rule``, ``fix`` set and the standard message."""
    raise cls.make(key, value, rule, fix)
