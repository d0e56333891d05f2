"""Reading run configs from YAML safely: :func:`load_yaml`.

``yaml.safe_load`` already refuses ``!!python`` tags, but it

* accepts duplicate keys silently (``L: 8`` then ``L: 12`` gives 12; a second ``evolution:``
  section replaces the first), and
* expands aliases without bound: a few hundred bytes of nested aliases ("billion laughs")
  build gigabytes of objects before anything can look at them.

:func:`load_yaml` composes the node graph first (cheap: an alias is one shared node), walks
it once to find duplicate keys (reported with the dotted path and both line numbers) and to
compute the size the document would have once every alias is expanded, and constructs the
Python objects only if that size is below :data:`MAX_EXPANDED` and aliases add at most
:data:`MAX_ALIAS_GROWTH` to the plain document. Every problem is a
:class:`~tnmbl.errors.Problem` in one :class:`~tnmbl.errors.ConfigError`; values in messages
go through :func:`tnmbl.errors.show` (never rendered in full).
"""

from __future__ import annotations

import yaml

from ..errors import ConfigError, Problem, show

MAX_CHARS = 16_000_000
"""Longest config text read (a config of the largest chain, L = 100000, with per-site arrays is ~4 MB)."""
MAX_EXPANDED = 2_000_000
"""Largest document, in nodes (a long string counts one node per 100 characters), once aliases are expanded."""
MAX_ALIAS_GROWTH = 100_000
"""Nodes that aliases may add to the document as written."""

_MERGE = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """``SafeLoader``; the checks run on the composed graph before construction."""


def _weight(node):
    return 1 + len(node.value) // 100 if isinstance(node, yaml.ScalarNode) else 1


def _children(node):
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _sizes(root):
    """``(expanded, distinct)`` sizes of the graph from ``root``, or ``None`` for expanded if a
    node contains itself (a recursive alias). Iterative and memoized: linear in distinct nodes."""
    size, distinct = {}, 0
    active = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            size[key] = _weight(node) + sum(size[id(c)] for c in _children(node))
            continue
        if key in size:
            continue
        if key in active:
            return None, distinct
        active.add(key)
        distinct += _weight(node)
        stack.append((node, True))
        for c in _children(node):
            if id(c) in active:
                return None, distinct
            if id(c) not in size:
                stack.append((c, False))
    return size[id(root)], distinct


def _key_text(node):
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _duplicates(root, source):
    """Problems for duplicate keys in every mapping of the graph (each mapping visited once)."""
    problems, seen_nodes = [], set()
    stack = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first = {}
            for k, v in node.value:
                text = _key_text(k)
                if k.tag == _MERGE or text is None:
                    stack.append((v, path))
                    continue
                sub = f"{path}.{text}" if path else str(text)
                ident = (k.tag, text)
                if ident in first:
                    a, b = first[ident], k.start_mark.line + 1
                    key = show(text) if len(text) > 60 else text
                    dotted = f"{path}.{key}" if path else key
                    problems.append((b, Problem(
                        dotted, None, f"duplicate key (lines {a} and {b} of {source}); YAML would silently keep "
                        "only the second", "keep one of them",
                        text=f"{dotted}: duplicate key, on line {a} and again on line {b} of {source} (YAML would "
                             "silently keep only the second); keep one of them")))
                else:
                    first[ident] = k.start_mark.line + 1
                stack.append((v, sub))
        elif isinstance(node, yaml.SequenceNode):
            for i, c in enumerate(node.value):
                stack.append((c, f"{path}[{i}]"))
    return [p for _, p in sorted(problems, key=lambda x: x[0])]


def load_yaml(text, source="<config>"):
    """Parse the YAML ``text`` (from ``source``, named in messages) into plain Python data.

    Raises :class:`~tnmbl.errors.ConfigError` for invalid YAML, ``!!python`` tags, duplicate
    keys (the dotted key and both lines), recursive aliases, and documents whose expanded size
    passes :data:`MAX_EXPANDED` or whose aliases add more than :data:`MAX_ALIAS_GROWTH` nodes;
    nothing of such a document is built.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if len(text) > MAX_CHARS:
        raise ConfigError([Problem(source, None, f"the text is {len(text)} characters long, above the limit "
                                                 f"{MAX_CHARS}", "a run config is a few kB: check the file",
                                   text=f"{source}: {len(text)} characters, above the limit {MAX_CHARS} of a "
                                        "config file; check that this is the config you meant")])
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # the reader refuses control characters at once
        raise _yaml_error(exc, source) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, source) from None
        except RecursionError:
            raise _too_deep(source) from None
        if node is None:
            return None
        expanded, distinct = _sizes(node)
        if expanded is None:
            raise ConfigError([Problem(source, None, "an alias refers to a node that contains it (recursive)",
                                       "write the values out", text=f"{source}: an alias refers to a node that "
                                       "contains it (a recursive structure); a config holds plain values")])
        if expanded > MAX_EXPANDED or expanded - distinct > MAX_ALIAS_GROWTH:
            raise ConfigError([Problem(
                source, None, "aliases expand the document too far",
                text=f"{source}: aliases (*name) expand this document to about {expanded:.3g} nodes from "
                     f"{distinct} written (limits: {MAX_EXPANDED} in all, {MAX_ALIAS_GROWTH} added by aliases); "
                     "refused before building it. Write the values out, or use fewer nested aliases")])
        problems = _duplicates(node, source)
        if problems:
            raise ConfigError(problems)
        try:
            return loader.construct_document(node)
        except yaml.YAMLError as exc:
            raise _yaml_error(exc, source) from None
        except RecursionError:
            raise _too_deep(source) from None
    finally:
        loader.dispose()


def _too_deep(source):
    return ConfigError([Problem(source, None, "nested too deeply", text=f"{source}: lists or mappings are nested too "
                                "deeply to read (a config is a few levels deep); check the brackets")])


def _yaml_error(exc, source):
    refused_tag = "python/" in (getattr(exc, "problem", None) or "")  # a ConstructorError for a !!python tag
    fix = "python tags (!!python/...) are refused: configs hold plain data only" if refused_tag else None
    text = " ".join(str(exc).split())
    if len(text) > 400:
        text = text[:400] + "..."
    rule = f"not valid YAML ({text})"
    return ConfigError([Problem(source, None, rule, fix, text=f"{source}: {rule}" + (f"; {fix}" if fix else ""))])
