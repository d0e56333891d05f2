"""Users' own factories named in run configs: ``"package.module:callable"``.

A config may name a model, an initial state or an observable by the import path of a Python
object instead of a built-in name (``model: {factory: "mypkg.models:my_chain", L: 8}``).
:func:`import_factory` imports it with :mod:`importlib` and checks that it is there and
callable, raising an :class:`~tnmbl.errors.OptionError` at the config ``key`` that names the
value, what went wrong and the fix, so a misspelled path is refused at validation, before
anything is computed.
"""

from __future__ import annotations

import difflib
import importlib

from .errors import OptionError, fail

FORM = "'package.module:callable' (a module importable from the run's Python path, then the name in it)"


def is_factory_path(text):
    """Whether ``text`` has the form ``module.path:name`` (a module part and a name part)."""
    if not isinstance(text, str) or text.count(":") != 1:
        return False
    module, attr = text.split(":")
    return bool(module) and bool(attr) and all(p.isidentifier() for p in module.split(".")) and attr.isidentifier()


def import_factory(path, key, *, callable_=True):
    """The object ``path`` (``"module.path:name"``) names; ``OptionError`` at ``key`` if the path
    is malformed, the module does not import, it has no such name, or (``callable_``) the
    object is not callable."""
    if not is_factory_path(path):
        fail(OptionError, key, path, f"must have the form {FORM}", "e.g. 'mypkg.models:my_chain'")
    module_name, attr = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        fail(OptionError, key, path, f"module {module_name!r} does not import ({type(exc).__name__}: {exc})",
             f"check the spelling, or put the folder holding {module_name.split('.')[0]!r} on PYTHONPATH")
    except Exception as exc:  # the user's module raised while importing
        fail(OptionError, key, path, f"importing module {module_name!r} raised {type(exc).__name__}: {exc}",
             "fix the module so that it imports")
    if not hasattr(module, attr):
        public = sorted(n for n, o in vars(module).items() if not n.startswith("_")
                        and (callable(o) or not callable_) and type(o).__name__ != "module")
        close = difflib.get_close_matches(attr, public, n=1)
        hint = f"did you mean '{module_name}:{close[0]}'?" if close else \
            f"{'callables' if callable_ else 'names'} in {module_name}: {', '.join(public[:12]) or 'none'}"
        fail(OptionError, key, path, f"module {module_name!r} has no attribute {attr!r}", hint)
    obj = getattr(module, attr)
    if callable_ and not callable(obj):
        fail(OptionError, key, path, f"{attr!r} in {module_name!r} is a {type(obj).__name__}, not a callable",
             "name a function (or class) that returns the object")
    return obj
