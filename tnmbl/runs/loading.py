"""Reading run configs: YAML text -> dict (``yaml.safe_load``: ``!!python`` tags are refused),
``--set key=value`` overrides, and files -> validated :class:`~tnmbl.runs.sections.RunConfig`."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .sections import RunConfig, problem
from .validate import validate_config
from .yamlio import load_yaml


def parse_yaml(text, source="<config>"):
    """YAML to plain data, or a :class:`ConfigError`: duplicate keys, alias bombs, refused
    ``!!python`` tags and syntax errors (:func:`tnmbl.runs.yamlio.load_yaml`)."""
    return load_yaml(text, source)


def set_override(raw, assignment):
    """Apply ``section.key=yaml_value`` to the nested dict ``raw`` (in place)."""
    if "=" not in assignment:
        raise ConfigError([problem(f"--set {assignment!r}", rule="must be key=value, e.g. --set evolution.chi_max=256",
                                   given=False)])
    key, text = assignment.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError([problem(f"--set {assignment!r}", rule="the key must be a dotted path such as model.g",
                                   given=False)])
    value = parse_yaml(text, f"--set {key}")
    set_dotted(raw, parts, value)
    return raw


def set_dotted(raw, key, value):
    """``raw[a][b][c] = value`` for the dotted ``key`` ``"a.b.c"`` (or its parts), creating
    mappings on the way (a non-mapping on the way is replaced)."""
    parts = key.split(".") if isinstance(key, str) else key
    node = raw
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value
    return raw


def read_text(path, what="config file"):
    """The text of ``path``, or a :class:`ConfigError` saying why it cannot be read."""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ConfigError([problem(f"{what} {str(path)!r}", rule=f"cannot be read ({exc.strerror})",
                                   given=False)]) from None


def load_config(path, overrides=(), **kw) -> RunConfig:
    """Read, override (``--set`` strings) and validate the YAML file at ``path``."""
    path = Path(path)
    text = read_text(path)
    raw = parse_yaml(text, str(path))
    if raw is None:
        raw = {}
    if isinstance(raw, dict):
        for o in overrides:
            set_override(raw, o)
    kw.setdefault("config_path", path)  # the output paths must not collide with the config itself
    return validate_config(raw, name=path.stem, **kw)


def config_from_yaml(text, name="run", **kw) -> RunConfig:
    """Validate a resolved config as stored in a results file."""
    raw = parse_yaml(text)
    return validate_config(raw, name=name, **kw)
