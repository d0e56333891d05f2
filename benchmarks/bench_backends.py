"""Backend benchmark (issue 5): time per step and peak memory of every backend and method,
and of tnmbl against plain TeNPy and plain quimb scripts, in one process.

Problems: Bose-Hubbard (U=1, g=0.1, n_max=4, density 1) at L=32 / 64 and chi_max 64 / 128
/ 256; disordered XXZ (g=1, J=0.4, W=2) at L=64, chi_max=128. dt=0.05.

Protocol
--------
1. A saturated state: TeNPy's ``RandomUnitaryEvolution`` (random charge-conserving
   two-site gates) from a product state until every bond has ``chi_max`` (or its largest
   possible rank). Every contender starts from this same state: tnmbl-TeNPy with U(1)
   (the MPS itself), tnmbl-TeNPy dense and tnmbl-quimb (its tensors as dense arrays), plain
   TeNPy (``TEBDEngine`` on a hand-written ``CouplingMPOModel``, U(1)), plain quimb
   (``quimb.tensor.TEBD`` on a ``LocalHam1D``, ``step(order=2)``).
2. Each contender takes one untimed step (gates built), then ``--steps`` single steps are
   timed one by one; the median is reported. All (method, contender) pairs are interleaved
   round-robin step by step, so load from other processes on the shared machine hits them
   alike; ratios are taken per round and their median reported (``relative_to_first``: to
   the first method's first contender).
3. Peak memory: ``tracemalloc`` (NumPy buffers included) over one more step each.

``--crossover`` (issue 14; ``tnmbl.engines.default_backend`` and its README table): tnmbl's
quimb sweep against tnmbl's TeNPy engine with U(1) on each of ``--threads`` (bond-parallel),
per ``--sites`` (``xxz:0`` spin-1/2, ``bh:N`` Bose-Hubbard n_max = N), ``--Ls``, ``--chis`` and
``--methods``, from one saturated state per point; steps are timed in blocks of >= 0.2 s (single
steps of small chains take milliseconds), round-robin with the order rotating each round; the
medians of the per-round ratios quimb / TeNPy are printed with the load average. Per (d, L), chi
doubles until TeNPy wins by ``--stop`` at every thread count. ``--issue-cases``: whole ``evolve``
runs of XXZ L = 12 at chi_max 64 and an L = 40 domain wall at chi_max 32 on both backends.

BLAS is pinned to one thread (set before NumPy is imported): on this 2-core machine a
second BLAS thread slows everything down (shared/measured.md).

Run:  python benchmarks/bench_backends.py --problem bh --L 32 --chi 64 --steps 3
      python benchmarks/bench_backends.py --problem xxz --L 64 --chi 128
      python benchmarks/bench_backends.py --crossover --methods tebd2,tebd4
Results are appended as JSON lines to ``--out`` (default benchmarks/results/backends.jsonl).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

import tnmbl  # noqa: E402
from tnmbl.chain.local import bond_matrix, onsite_matrix  # noqa: E402
from tnmbl.engines import EngineOptions, QuimbTEBD, TenpyTDVP, TenpyTEBD  # noqa: E402

DT = 0.05


def make_problem(problem, L, n_max=4):
    if problem == "bh":
        chain = tnmbl.models.bose_hubbard(L=L, U=1.0, g=0.1, n_max=n_max)
        state = tnmbl.states.product(chain, occupations=[2 if x % 2 == 0 else 0 for x in range(L)])
    else:
        chain = tnmbl.models.xxz(L=L, g=1.0, J=0.4, W=2.0, seed=1)
        state = tnmbl.states.neel(chain)
    return chain, state


def saturate(psi, chi, seed=1):
    """Random charge-conserving two-site gates until the bond dimension saturates."""
    from tenpy.algorithms.tebd import RandomUnitaryEvolution
    from tenpy.tools.misc import setup_logging  # noqa: F401  (TeNPy logs nothing by default)

    np.random.seed(seed)
    for _ in range(200):
        RandomUnitaryEvolution(psi, {"N_steps": 1, "trunc_params": {"chi_max": chi, "svd_min": 1e-12}}).run()
        if max(psi.chi) >= chi:
            RandomUnitaryEvolution(psi, {"N_steps": 2, "trunc_params": {"chi_max": chi, "svd_min": 1e-12}}).run()
            break
    psi.canonical_form()
    return psi


def dense_tensors(psi):
    """The MPS as dense arrays ``(vL, p, vR)`` in right-canonical form, and its Schmidt values."""
    arrs = [psi.get_B(i, "B").transpose(["vL", "p", "vR"]).to_ndarray() for i in range(psi.L)]
    svs = [np.asarray(psi.get_SL(i)) for i in range(psi.L)] + [np.asarray(psi.get_SR(psi.L - 1))]
    return arrs, svs


class Contender:
    def __init__(self, name, step, state_size):
        self.name, self._step, self._size = name, step, state_size
        self.times = []
        self.peak_mb = None

    def step(self):
        t0 = time.perf_counter()
        self._step()
        self.times.append(time.perf_counter() - t0)

    def memory(self):
        tracemalloc.start()
        self._step()
        self.peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    def chi(self):
        return self._size()


def tnmbl_tenpy(chain, state, psi, chi, method, conserve, arrs=None, svs=None):
    opts = EngineOptions(method=method, dt=DT, chi_max=chi, svd_cutoff=1e-10, conserve=conserve)
    cls = TenpyTDVP if method.startswith("tdvp") else TenpyTEBD
    eng = cls(chain, state, opts)
    if conserve:
        new = psi.copy()
    else:
        from tenpy.networks.mps import MPS

        new = MPS.from_Bflat(eng.psi.sites, [a.transpose(1, 0, 2) for a in arrs], SVs=svs, bc="finite",
                             dtype=complex, form="B")
    if method.startswith("tdvp"):
        eng.psi = new
    else:
        from tenpy.algorithms.tebd import TEBDEngine

        eng.psi = new
        eng.tebd = TEBDEngine(new, eng.model, {"order": int(method[-1]),
                                               "trunc_params": {"chi_max": chi, "svd_min": 1e-10}})
    eng.advance(1)
    return eng


def tnmbl_quimb(chain, state, arrs, chi, method):
    eng = QuimbTEBD(chain, state, EngineOptions(method=method, dt=DT, chi_max=chi, svd_cutoff=1e-10))
    eng.arrays = [np.array(a, dtype=complex) for a in arrs]
    eng.centre = 0
    eng.advance(1)
    return eng


def plain_tenpy(chain, chi, problem, shared_psi=None):
    """A hand-written TeNPy model of the same chain (U(1)), on a copy of ``shared_psi`` when its
    charges fit the model's sites (Bose-Hubbard: same ``ChargeInfo``), else its own saturated MPS
    (then the two contenders run on different states of the same bond dimension)."""
    from tenpy.algorithms.tebd import TEBDEngine
    from tenpy.models.lattice import Chain
    from tenpy.models.model import CouplingMPOModel, NearestNeighborModel
    from tenpy.networks.mps import MPS
    from tenpy.networks.site import BosonSite, SpinHalfSite

    L = chain.L
    p = chain.params

    class Model(CouplingMPOModel, NearestNeighborModel):
        def init_sites(self, _):
            if problem == "bh":
                return BosonSite(Nmax=p["n_max"], conserve="N")
            return SpinHalfSite(conserve="Sz")

        def init_lattice(self, _):
            return Chain(L, self.init_sites(None), bc="open", bc_MPS="finite")

        def init_terms(self, _):
            if problem == "bh":
                self.add_onsite(p["U"], 0, "NN")
                self.add_coupling(p["g"], 0, "Bd", 0, "B", 1, plus_hc=True)
            else:  # Pauli: g(XX+YY) = 2g(S+S- + h.c.) in Sp/Sm of spin-1/2, J ZZ = 4J SzSz, w Z = 2w Sz
                self.add_onsite(2 * np.asarray(p["w"]), 0, "Sz")
                self.add_coupling(2 * p["g"], 0, "Sp", 0, "Sm", 1, plus_hc=True)
                self.add_coupling(4 * p["J"], 0, "Sz", 0, "Sz", 1)

    model = Model({})
    if shared_psi is not None:
        try:
            eng = TEBDEngine(shared_psi.copy(), model, {"order": 2, "trunc_params": {"chi_max": chi, "svd_min": 1e-10}})
            eng.run_evolution(1, DT)
            return eng, eng.psi
        except (ValueError, AssertionError):
            pass
    init = ([2 if x % 2 == 0 else 0 for x in range(L)] if problem == "bh"
            else ["up" if x % 2 == 0 else "down" for x in range(L)])
    psi = saturate(MPS.from_product_state(model.lat.mps_sites(), init, bc="finite", dtype=complex,
                                          unit_cell_width=L), chi, seed=2)
    eng = TEBDEngine(psi, model, {"order": 2, "trunc_params": {"chi_max": chi, "svd_min": 1e-10}})
    eng.run_evolution(1, DT)
    return eng, psi


def plain_quimb(chain, arrs, chi):
    """quimb's own TEBD on a LocalHam1D of the same chain, from the same saturated state."""
    import quimb.tensor as qtn

    L = chain.L
    H2 = {(b, b + 1): bond_matrix(chain, b) for b in range(L - 1)}
    H1 = {x: onsite_matrix(chain, x) for x in range(L)}
    ham = qtn.LocalHam1D(L, H2=H2, H1=H1)
    a = [np.array(x, dtype=complex) for x in arrs]
    a[0], a[-1] = a[0][0], a[-1][:, :, 0]
    mps = qtn.MatrixProductState(a, shape="lpr")
    tebd = qtn.TEBD(mps, ham, dt=DT, split_opts={"max_bond": chi, "cutoff": 1e-10, "cutoff_mode": "rel"},
                    progbar=False)
    tebd.step(order=2)
    return tebd


def run(problem, L, chi, steps, methods, contenders):
    chain, state = make_problem(problem, L)
    t0 = time.perf_counter()
    base = TenpyTEBD(chain, state, EngineOptions(method="tebd2", dt=DT, chi_max=chi, conserve=True))
    psi = saturate(base.psi, chi)
    arrs, svs = dense_tensors(psi)
    prep_s = time.perf_counter() - t0
    rows = []
    groups = []
    for method in methods:
        cs = []
        if "tnmbl-tenpy-u1" in contenders:
            e = tnmbl_tenpy(chain, state, psi, chi, method, True)
            cs.append(Contender("tnmbl-tenpy-u1", lambda e=e: e.advance(1), lambda e=e: max(e.psi.chi)))
        if "tnmbl-tenpy-dense" in contenders and not method.startswith("tdvp"):
            e = tnmbl_tenpy(chain, state, psi, chi, method, False, arrs, svs)
            cs.append(Contender("tnmbl-tenpy-dense", lambda e=e: e.advance(1), lambda e=e: max(e.psi.chi)))
        if "tnmbl-quimb" in contenders and method.startswith("tebd"):
            e = tnmbl_quimb(chain, state, arrs, chi, method)
            cs.append(Contender("tnmbl-quimb", lambda e=e: e.advance(1), lambda e=e: e.health()["chi"]))
        if method == "tebd2" and "plain-tenpy" in contenders:
            eng, p_psi = plain_tenpy(chain, chi, problem, psi)
            cs.append(Contender("plain-tenpy", lambda eng=eng: eng.run_evolution(1, DT),
                                lambda p=p_psi: max(p.chi)))
        if method == "tebd2" and "plain-quimb" in contenders:
            tebd = plain_quimb(chain, arrs, chi)
            cs.append(Contender("plain-quimb", lambda t=tebd: t.step(order=2), lambda t=tebd: t._pt.max_bond()))
        groups.append((method, cs))
    # round-robin over every (method, contender): load from other processes hits all alike
    for _ in range(steps):
        for _, cs in groups:
            for c in cs:
                c.step()
    ref = groups[0][1][0] if groups and groups[0][1] else None
    for method, cs in groups:
        for c in cs:
            c.memory()
        by = {c.name: c for c in cs}

        def ratio(a, b, by=by):
            if a in by and b in by:
                return statistics.median(x / y for x, y in zip(by[a].times, by[b].times))
            return None

        for c in cs:
            rel = statistics.median(x / y for x, y in zip(c.times, ref.times)) if ref is not None else None
            rows.append({"problem": problem, "L": L, "chi_max": chi, "method": method, "contender": c.name,
                         "median_s_per_step": statistics.median(c.times), "times": c.times,
                         "relative_to_first": rel, "first": f"{groups[0][0]}/{ref.name}" if ref else None,
                         "peak_mb_one_step": c.peak_mb, "chi_reached": int(c.chi()), "prep_s": prep_s})
        rows.append({"problem": problem, "L": L, "chi_max": chi, "method": method, "ratios": {
            "tnmbl-tenpy-u1 / plain-tenpy": ratio("tnmbl-tenpy-u1", "plain-tenpy"),
            "tnmbl-quimb / plain-quimb": ratio("tnmbl-quimb", "plain-quimb"),
            "tnmbl-quimb / tnmbl-tenpy-u1": ratio("tnmbl-quimb", "tnmbl-tenpy-u1"),
            "tnmbl-tenpy-dense / tnmbl-tenpy-u1": ratio("tnmbl-tenpy-dense", "tnmbl-tenpy-u1")}})
    return rows


def measure_currents(problem, L, chi, reps=3):
    """Time of measuring the 3-site energy current on every site: tnmbl-quimb, tnmbl-TeNPy,
    and quimb's own ``compute_local_expectation`` on the same state."""

    from tnmbl.chain import energy_currents

    chain, state = make_problem(problem, L)
    base = TenpyTEBD(chain, state, EngineOptions(method="tebd2", dt=DT, chi_max=chi, conserve=True))
    psi = saturate(base.psi, chi)
    arrs, _ = dense_tensors(psi)
    q = QuimbTEBD(chain, state, EngineOptions(method="tebd2", dt=DT, chi_max=chi))
    q.arrays, q.centre = [np.array(a, dtype=complex) for a in arrs], 0
    ops = energy_currents(chain)
    terms = {op.sites: op.matrix for op in ops}
    out = {}
    for name, fn in (("tnmbl-quimb", lambda: q.expect("j", ops)), ("tnmbl-tenpy-u1", lambda: base.expect("j", ops)),
                     ("quimb compute_local_expectation",
                      lambda: q.psi.compute_local_expectation(terms, normalized=True, return_all=True))):
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        out[name] = statistics.median(ts)
    vals_q, vals_t = q.expect("j", ops), base.expect("j", ops)
    return {"problem": problem, "L": L, "chi_max": chi, "measure_energy_current_s": out,
            "max_diff_quimb_vs_tenpy": float(np.abs(vals_q - vals_t).max())}


def parallel_tenpy(chain, state, psi, chi, method, threads):
    """tnmbl's TeNPy engine with U(1) on ``threads`` (the bond-parallel layers), on a copy of ``psi``."""
    eng = TenpyTEBD(chain, state, EngineOptions(method=method, dt=DT, chi_max=chi, svd_cutoff=1e-10, conserve=True,
                                                extra={"threads": threads}))
    eng.psi = eng.tebd.psi = psi.copy()
    eng.advance(1)
    return eng


def crossover_point(problem, n_max, L, chi, steps, methods, threads):
    """quimb (tnmbl's dense sweep) against TeNPy U(1) on ``threads`` from one saturated state,
    per method: medians of the per-round ratios quimb / TeNPy (> 1: TeNPy faster)."""
    chain, state = make_problem(problem, L, n_max)
    base = TenpyTEBD(chain, state, EngineOptions(method="tebd2", dt=DT, chi_max=chi, conserve=True))
    psi = saturate(base.psi, chi)
    arrs, _ = dense_tensors(psi)
    groups = []
    for method in methods:
        q = tnmbl_quimb(chain, state, arrs, chi, method)
        cs = [Contender("quimb", lambda q=q: q.advance(1), None)]
        for n in threads:
            e = parallel_tenpy(chain, state, psi, chi, method, n)
            cs.append(Contender(f"tenpy x{n}", lambda e=e: e.advance(1), None))
        groups.append((method, cs))
    for _, cs in groups:  # blocks of >= ~0.2 s: single steps of a few ms are noise
        for c in cs:
            t0 = time.perf_counter()
            c._step()
            c.block = max(1, round(0.2 / max(time.perf_counter() - t0, 1e-4)))
            c._step = (lambda f, n: lambda: [f() for _ in range(n)])(c._step, c.block)
    for r in range(steps):  # round-robin, the order rotating: load from other processes hits all alike
        for _, cs in groups:
            for c in cs[r % len(cs):] + cs[:r % len(cs)]:
                c.step()
                c.times[-1] /= c.block
    rows = []
    for method, cs in groups:
        q = cs[0].times
        rows.append({"problem": problem, "d": chain.site.dim, "L": L, "chi_max": chi, "chi_reached": int(max(psi.chi)),
                     "method": method, "s_per_step": {c.name: statistics.median(c.times) for c in cs},
                     "quimb_over_tenpy": {c.name: statistics.median(a / b for a, b in zip(q, c.times))
                                          for c in cs[1:]}, "load": os.getloadavg()[0]})
    return rows


def issue_cases(reps=2):
    """Whole runs (``evolve``, the four standard observables every 0.5) of the two cases the
    backend choice was questioned on: XXZ L = 12 at chi_max 64 (chi_max * d = 128) and an
    L = 40 domain wall at chi_max 32; quimb against TeNPy U(1) on 1 and 2 threads, interleaved."""
    obs = ["density", "energy_density", "energy_current", "entanglement"]
    xxz12, wall40 = tnmbl.models.xxz(L=12, g=1.0, J=0.4), tnmbl.models.xxz(L=40, g=1.0, J=0.4)
    cases = {"XXZ L=12 Neel chi 64": (xxz12, tnmbl.states.neel(xxz12), 64),
             "XXZ L=40 domain wall chi 32": (wall40, tnmbl.states.domain_wall(wall40, at=20), 32)}
    rows = []
    for name, (chain, state, chi) in cases.items():
        for method in ("tebd2", "tebd4"):
            runs = {"quimb": dict(backend="quimb"), "tenpy x1": dict(backend="tenpy", threads=1),
                    "tenpy x2": dict(backend="tenpy", threads=2)}
            wall, cpu, last = {k: [] for k in runs}, {k: [] for k in runs}, {}
            for r in range(reps):
                for k in list(runs)[r % 3:] + list(runs)[:r % 3]:
                    t0, c0 = time.perf_counter(), time.process_time()
                    last[k] = tnmbl.evolve(chain, state, method, dt=0.05, t_final=5.0, output_dt=0.5, chi_max=chi,
                                           observables=obs, **runs[k])
                    wall[k].append(time.perf_counter() - t0)
                    cpu[k].append(time.process_time() - c0)
            diff = float(np.abs(last["quimb"]["density"][-1] - last["tenpy x1"]["density"][-1]).max())
            row = {"case": name, "method": method, "t_final": 5.0, "dt": 0.05, "wall_s": wall, "cpu_s": cpu,
                   "quimb_over_tenpy_wall": {k: statistics.median(a / b for a, b in zip(wall["quimb"], wall[k]))
                                             for k in ("tenpy x1", "tenpy x2")},
                   "max_density_diff": diff, "load": os.getloadavg()[0]}
            print(f"{name} {method} t=5: " + ", ".join(f"{k} {statistics.median(v):.2f} s wall "
                                                      f"({statistics.median(cpu[k]):.2f} CPU)" for k, v in wall.items())
                  + "; quimb/" + ", quimb/".join(f"{k} {v:.2f}" for k, v in row["quimb_over_tenpy_wall"].items())
                  + f"; |d<n>| {diff:.1e}; load {row['load']:.1f}", flush=True)
            rows.append(row)
    return rows


def crossover(args):
    """The grid of ``--crossover``: per (d, L), chi doubling from 16 until TeNPy wins by
    ``--stop`` at every thread count (larger chi only widens TeNPy's lead, README)."""
    out = []
    for L in args.Ls:
        for problem, n_max in args.sites:
            for chi in args.chis:
                rows = crossover_point(problem, n_max, L, chi, args.steps, args.methods.split(","), args.threads)
                for r in rows:
                    print(f"d={r['d']} L={L:3d} chi={chi:4d} (reached {r['chi_reached']:4d}) {r['method']}: "
                          + ", ".join(f"{k} {v:.3g} s" for k, v in r["s_per_step"].items())
                          + "; quimb/" + ", quimb/".join(f"{k} {v:.2f}" for k, v in r["quimb_over_tenpy"].items())
                          + f"  load {r['load']:.1f}", flush=True)
                out += rows
                if min(min(r["quimb_over_tenpy"].values()) for r in rows) > args.stop:
                    break
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problem", choices=["bh", "xxz"], default="bh")
    ap.add_argument("--L", type=int, default=32)
    ap.add_argument("--chi", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--methods", default="tebd2", help="comma-separated: tebd2,tebd4,tdvp1,tdvp2")
    ap.add_argument("--contenders", default="tnmbl-tenpy-u1,tnmbl-tenpy-dense,tnmbl-quimb,plain-tenpy,plain-quimb")
    ap.add_argument("--measure", action="store_true", help="time measuring the energy current instead")
    ap.add_argument("--crossover", action="store_true", help="quimb vs TeNPy U(1) (bond-parallel, --threads) over "
                    "--sites x --Ls x --chis (the default_backend table)")
    ap.add_argument("--issue-cases", action="store_true", help="whole runs: XXZ L=12 chi 64, L=40 domain wall chi 32")
    ap.add_argument("--sites", default="xxz:0,bh:2,bh:3,bh:4", help="crossover: problem:n_max, comma-separated")
    ap.add_argument("--Ls", default="16,64")
    ap.add_argument("--chis", default="16,32,64,128,256")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--stop", type=float, default=2.5, help="crossover: next (d, L) once quimb / TeNPy > STOP")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "backends.jsonl"))
    args = ap.parse_args(argv)
    if args.crossover or args.issue_cases:
        if args.issue_cases:
            rows = issue_cases()
        else:
            args.sites = [(p, int(n)) for p, n in (x.split(":") for x in args.sites.split(","))]
            args.Ls, args.chis, args.threads = ([int(x) for x in v.split(",")]
                                                for v in (args.Ls, args.chis, args.threads))
            rows = crossover(args)
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "a") as fh:
            for r in rows:
                fh.write(json.dumps(r | {"versions": tnmbl.versions()}) + "\n")
        return
    if args.measure:
        row = measure_currents(args.problem, args.L, args.chi)
        row["versions"] = tnmbl.versions()
        with open(args.out, "a") as fh:
            fh.write(json.dumps(row) + "\n")
        print(row)
        return
    rows = run(args.problem, args.L, args.chi, args.steps, args.methods.split(","), args.contenders.split(","))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "a") as fh:
        for r in rows:
            r["versions"] = tnmbl.versions()
            fh.write(json.dumps(r) + "\n")
    for r in rows:
        if "ratios" in r:
            print("  ratios: " + ", ".join(f"{k} = {v:.3g}" for k, v in r["ratios"].items() if v is not None))
        else:
            print(f"{r['problem']} L={r['L']} chi={r['chi_max']} {r['method']:6s} {r['contender']:18s} "
                  f"{r['median_s_per_step']:8.3f} s/step  x{r['relative_to_first']:6.2f} of {r['first']}  "
                  f"peak {r['peak_mb_one_step']:7.1f} MB  chi {r['chi_reached']}")


if __name__ == "__main__":
    main()
