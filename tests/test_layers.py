"""The package's imports point down the layers only, and no two modules import each other.

Every module of ``tnmbl/`` is parsed with ``ast`` (no import runs); every ``import`` /
``from ... import`` statement counts, at the top of a file or inside a function. The layer
order is the one CONTRIBUTING.md states (section "Layout"); a module may import its own layer
and the layers below. ``SHIMS`` lists the backward-compatible re-exports that still run up
(each removed once ``tnmbl/runs`` reads the new place).
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "tnmbl"

#: lowest first; a module belongs to the first entry that is it or a package above it
LAYERS = [
    ("tnmbl.errors", "tnmbl.timegrid", "tnmbl.provenance", "tnmbl.factories"),
    ("tnmbl.chain",),
    ("tnmbl.models",),
    ("tnmbl.states",),
    ("tnmbl.observables",),
    ("tnmbl.engines",),
    ("tnmbl.evolution", "tnmbl.testing"),
    ("tnmbl",),  # the package root: the public names, re-exported
    ("tnmbl.runs",),
    # analysis reads results (Result objects, results files of tnmbl.runs): the top
    ("tnmbl.observables.spreading", "tnmbl.observables.classical", "tnmbl.transport"),
]
LAYERS.insert(0, ())  # keep indices readable in messages: layer 1 is the lowest

#: (importing module, imported module): backward-compatible shims that run up or close a cycle,
#: with why; each is removed once tnmbl/runs and the users read the new place (tests below fail
#: when a shim is no longer needed)
SHIMS = {
    ("tnmbl.states.bubbles", "tnmbl.evolution.ensembles"): "ensemble_average by its old name (users)",
    ("tnmbl.engines.bubble_purification", "tnmbl.evolution.mixed"): "evolve_mixed by its old name (users)",
    ("tnmbl.observables.correlations", "tnmbl.evolution.correlations"): "the old module path (users)",
}


def module_name(path):
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer(name):
    """Index of the layer of module ``name`` (the most specific prefix wins)."""
    best, best_len = None, -1
    for i, entries in enumerate(LAYERS):
        for entry in entries:
            if (name == entry or name.startswith(entry + ".")) and len(entry) > best_len:
                best, best_len = i, len(entry)
    return best


def imports(path):
    """Modules of tnmbl that ``path`` imports (resolved from relative imports)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "tnmbl"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tnmbl":
                continue
            for alias in node.names:  # "from . import states" imports the module tnmbl.states
                sub = f"{target}.{alias.name}"
                out.add(sub if _is_module(sub) else target)
    return out


def _is_module(name):
    p = ROOT.parent.joinpath(*name.split("."))
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}
GRAPH = {m: {t for t in imports(p) if t != m} for m, p in MODULES.items()}


def test_every_module_has_a_layer():
    assert all(layer(m) is not None for m in MODULES), [m for m in MODULES if layer(m) is None]


def test_imports_point_down_the_layers():
    up = []
    for mod, targets in GRAPH.items():
        for t in targets:
            if (mod, t) not in SHIMS and layer(t) > layer(mod):
                up.append((mod, t))
    assert not up, "imports running up the layers (CONTRIBUTING.md, Layout):\n" + "\n".join(
        f"  {m} (layer {layer(m)}) imports {t} (layer {layer(t)})" for m, t in sorted(up))


def _cycles():
    """Strongly connected components with more than one module (Tarjan), shims left out.
    A package's ``__init__`` importing its own submodules is not a cycle with them."""
    graph = {m: {t for t in ts if t in MODULES and (m, t) not in SHIMS and not t.startswith(m + ".")}
             for m, ts in GRAPH.items()}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert not _cycles(), f"import cycles: {_cycles()}"


def test_the_checker_sees_up_imports_and_cycles():
    """The test itself can fail: a made-up up-import and a made-up cycle are caught."""
    assert layer("tnmbl.states.classical") < layer("tnmbl.engines.classical.engine")
    assert layer("tnmbl.observables.spreading") > layer("tnmbl.observables.registry")
    GRAPH["tnmbl.chain.chain"].add("tnmbl.chain.sites")
    GRAPH["tnmbl.chain.sites"].add("tnmbl.chain.chain")
    try:
        assert any("tnmbl.chain.chain" in c for c in _cycles())
    finally:
        GRAPH["tnmbl.chain.chain"].discard("tnmbl.chain.sites")
        GRAPH["tnmbl.chain.sites"].discard("tnmbl.chain.chain")


@pytest.mark.parametrize("shim", sorted(SHIMS))
def test_shims_are_still_needed(shim):
    """A listed shim that no longer imports up is stale: drop it from SHIMS."""
    mod, target = shim
    assert target in GRAPH[mod], f"{mod} no longer imports {target}; remove it from SHIMS"
