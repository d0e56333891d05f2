"""Rotor integrators at a fixed energy error: the dt each scheme needs and the site-updates
it then costs per unit of simulated time, leapfrog against the 4th/6th-order schemes and
float32, side by side in one process.

    python benchmarks/bench_integrators.py [--g 1 0.3 0.1] [--repeats 5] [--target 1e-4]

Target (the accuracy the glassy-dynamics Fig. 2 t0 estimate needs). A symplectic scheme
integrates a modified Hamiltonian ``H + dH`` exactly; ``dH`` shows as the bounded energy
error. t0 is the first time phi = (beta/2L) sum <(w(t) - w(0))^2> reaches 0.9; phi is flat
there (d phi / d ln t ~ 0.06, measured.md), so the error of t0 is ~ sigma_phi / 0.06. A
perturbation of energy per site ``e`` shifts the temperature by ~2e (heat capacity ~1/2 per
site at small g) and phi by ~2e relative; with 4096 chains x 64 sites, sigma_phi ~ 2e-3. So
``e = 1e-4`` per site (worst chain, max over the run) keeps the bias ~ 2e-4, a tenth of the
statistical error. The criterion here: max over chains and sampled times of
|E(t) - E(0)| / L <= target, on a Gibbs batch (beta = 1, L = 64, 64 chains, t <= 50).

Drift: a study run to t_run must also keep the *drift* of the mean energy below
target / t_run (1e-11 per unit time at g = 0.1, t_run ~ 1e7). Printed: the drift at the
chosen dt over ``--t-drift``, float64 and float32 side by side, from windowed means (the
oscillating error averages out), with its standard error. The long check is
``--drift SCHEME:DT:PRECISION ... --g 0.1 --t-drift 20000`` (minutes); numbers in the
report of issue 15's integrator branch.

Through the engine (``--engine``): the run path itself (``tnmbl.evolve(..., precision=...)``:
the engine, its float64 measurement at the output rows, ~Fig. 2's n_log = 400 rows), leapfrog
and ABA864 in float64 and float32, each at its dt* for ``--target``: site-updates (one site
advanced by one time unit) per CPU-second, interleaved over ``--repeats`` rounds, ratios
against leapfrog float64 printed.

Long runs (``--long G:T:M ...``): the criterion above over a *study's* length, not t <= 50.
Over long runs of large batches a rare fast rotor (|w| dt approaching pi; at beta = 1 a tail
event whose chance grows with M and t) meets the scheme's resonance, and a 4th-order scheme
at its short-run dt* then errs far beyond target (ABA864 at g = 0.1, dt = 1.0: 1.2e-4 by
t = 200, 5.6e-4 by t = 2e4, growing), while leapfrog's error stays bounded. For each point,
through the run path (``tnmbl.evolve``, Fig. 2's seed and n_log-style rows), leapfrog and ABA864
walk down a dt ladder from the top to the first dt whose worst-chain error per site up to T
stays <= target; printed: that dt, its error at T / 100, T / 10 and T, the CPU-s per site per
time unit, and which scheme is cheaper. This is the table behind the Fig. 2 sweep's choice.

t0 check (``--t0-check G:DT:M:T ...``): t0 (phi = 0.9, Gibbs beta = 1, L = 64, M chains, leapfrog
at DT to time T, n_log = 400) in float64 and float32 from the same seeded chains, with the
bootstrap errors (``tnmbl.observables.classical.t0``, window 0.15 as Fig. 2).

Speed: site kicks (one site, one force evaluation) per CPU-second of each (scheme,
precision) on one thread, interleaved over ``--repeats`` rounds; medians printed with the
load average (the machine is shared; CPU time is the cost). Cost per unit simulated time per
site = (kicks per step / dt) / rate, in CPU-seconds.
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np

import tnmbl
from tnmbl.engines.classical import ClassicalEngine
from tnmbl.engines.classical import kernels_sym as K
from tnmbl.engines.classical.schemes import ROTOR_SCHEMES
from tnmbl.states import classical as cs

CONFIGS = [("leapfrog", "float64"), ("yoshida4", "float64"), ("aba864", "float64"), ("srkn6b", "float64"),
           ("srkn14a", "float64"), ("leapfrog", "float32"), ("aba864", "float32"), ("aba864", "float32-full"),
           ("srkn14a", "float32")]


def _batch(q, p, g, dt, scheme, precision):
    """A RotorBatch; ``precision`` may carry the float32 compensation: float32 (angles),
    float32-full (angles and momenta), float32-plain (none)."""
    prec, _, comp = precision.partition("-")
    comp = {"": True, "full": "full", "plain": False}[comp]
    return K.RotorBatch(q, p, g, dt, scheme, precision=prec, compensated=comp)


def energy_error(q, p, g, scheme, dt, t_max, precision, samples=50):
    e0 = K.rotor_energy(q, p, g)
    L = q.shape[1]
    n_total = max(1, int(round(t_max / dt)))
    every = max(1, n_total // samples)
    b = _batch(q, p, g, dt, scheme, precision)
    err = 0.0
    while b.step < n_total:
        b.advance(min(every, n_total - b.step))
        de = np.abs(K.rotor_energy(b.q, b.p, g) - e0) / L
        if not np.all(np.isfinite(de)):
            return np.inf
        err = max(err, float(de.max()))
    return err


def dt_at_target(q, p, g, scheme, precision, target, t_max):
    """Largest dt (log-interpolated on a ladder) with energy error <= target, capped by the
    linear stability bound."""
    dt_cap = 0.98 * K.rotor_dt_max(scheme, g)  # the scheme's linear stability bound
    ladder = [d for d in 0.01 * 2 ** (np.arange(0, 17) / 2) if d <= min(dt_cap, 2.56)]
    prev = None
    for dt in ladder:
        e = energy_error(q, p, g, scheme, dt, t_max, precision)
        if e > target:
            if prev is None:
                return dt, e, "below the ladder"
            d0, e0 = prev
            if not np.isfinite(e) or e0 <= 0:
                return d0, e0, ""
            # log-log interpolation between the last good and the first bad point
            s = np.log(e / e0) / np.log(dt / d0)
            return float(d0 * (target / e0) ** (1 / s)), target, ""
        prev = (dt, e)
    return prev[0], prev[1], "top of ladder / stability cap"


def drift_rate(q, p, g, scheme, dt, t_long, precision, window=None):
    """Mean energy drift per site per unit time over ``t_long``: the batch (a RotorBatch, so
    a float32 run keeps its compensation) is sampled every ~1 time unit; per chain, the mean
    of the last ``window`` samples minus that of the first, over the time between them (the
    bounded, oscillating energy error averages out over a window). Returns the mean over the
    chains and its standard error from their spread (the chains are independent; the
    samples of one chain are not)."""
    e0 = K.rotor_energy(q, p, g)
    L = q.shape[1]
    every = max(1, int(round(1.0 / dt)))
    n = max(10, int(t_long / (every * dt)))
    w = window or max(2, n // 5)
    b = _batch(q, p, g, dt, scheme, precision)
    s = np.empty((n, q.shape[0]))
    for k in range(n):
        b.advance(every)
        s[k] = (K.rotor_energy(b.q, b.p, g) - e0) / L
    span = (n - w) * every * dt
    per_chain = (s[-w:].mean(0) - s[:w].mean(0)) / span
    return float(per_chain.mean()), float(per_chain.std(ddof=1) / np.sqrt(per_chain.size))


def rates(configs, M, L, repeats, seconds=0.25):
    """Site kicks per CPU-second of each config on one thread (the machine is shared: CPU
    time is what a config costs; wall time is printed too), interleaved over ``repeats``."""
    rng = np.random.default_rng(0)
    q = rng.uniform(-np.pi, np.pi, (M, L))
    p = rng.normal(size=(M, L))
    batches = {}
    n_steps = {}
    for sch, prec in configs:  # compile, and size each run to ~`seconds`
        _batch(q[:64], p[:64], 1.0, 0.1, sch, prec).advance(2)
        b = batches[(sch, prec)] = _batch(q, p, 1.0, 0.1, sch, prec)
        b.threads = 1
        t0 = time.process_time()
        b.advance(5)
        per = max(time.process_time() - t0, 1e-4) / 5
        n_steps[(sch, prec)] = max(5, int(seconds / per))
    cpu = {c: [] for c in configs}
    wall = {c: [] for c in configs}
    loads = []
    for _ in range(repeats):
        for c in configs:
            n = n_steps[c]
            c0, w0 = time.process_time(), time.perf_counter()
            batches[c].advance(n)
            work = M * L * n * ROTOR_SCHEMES[c[0]].kicks
            cpu[c].append(work / (time.process_time() - c0))
            wall[c].append(work / (time.perf_counter() - w0))
        loads.append(os.getloadavg()[0])
    return ({c: float(np.median(v)) for c, v in cpu.items()}, {c: float(np.median(v)) for c, v in wall.items()},
            loads)


def engine_rates(g, target, t_max, repeats, M=1024, L=64, seconds=1.0):
    """Site-updates per unit of simulated time per CPU-second through the engine (the run path,
    measurement at ~400 log-spaced rows per run of ``t`` time units), leapfrog and ABA864 in
    float64 and float32, each at its dt* for ``target``; one thread, interleaved rounds."""
    chain = tnmbl.models.rotor(L, g)
    st = cs.gibbs(chain, 64, beta=1.0, seed=7)
    q, p = st.canonical()
    big = cs.gibbs(chain, M, beta=1.0, seed=8)
    configs = [(m, prec) for m in ("leapfrog", "aba864") for prec in ("float64", "float32")]
    dts, engines, segs = {}, {}, {}
    for c in configs:
        dts[c] = dt_at_target(q, p, g, c[0], c[1], target, t_max)[0]
        eng = engines[c] = ClassicalEngine.create(chain, big, c[0], dts[c], precision=c[1], threads=1)
        eng.run(np.array([1]))  # compile
        t0 = time.process_time()
        eng.run(np.array([20]))
        per = max(time.process_time() - t0, 1e-4) / 20
        n = max(50, int(seconds / per))
        segs[c] = np.full(40, max(1, n // 40), np.int64)  # a measured row every n / 40 steps
    cpu = {c: [] for c in configs}
    for _ in range(repeats):
        for c in configs:
            t0 = time.process_time()
            engines[c].run(segs[c])
            cpu[c].append(M * L * segs[c].sum() * dts[c] / (time.process_time() - t0))
    return dts, {c: float(np.median(v)) for c, v in cpu.items()}


def t0_check(spec):
    """t0 in float64 and float32 from the same chains (``spec`` ``G:DT:M:T``)."""
    from tnmbl.observables.classical import t0

    g, dt, M, t_final = (float(x) for x in spec.split(":"))
    chain = tnmbl.models.rotor(64, g)
    state = cs.gibbs(chain, int(M), beta=1.0, seed=[2022, int(round(1000 * g))])
    out = {}
    for prec in ("float64", "float32"):
        w0 = time.perf_counter()
        r = tnmbl.evolve(chain, state, "leapfrog", dt=dt, t_final=t_final, n_log=400, observables=["phi"],
                         precision=prec, energy_tolerance=1e-3)
        value, err, _ = t0(r.times, r.engine.samples["phi"], level=0.9, window=0.15, n_boot=300, seed=7)
        out[prec] = (value, err)
        print(f"g = {g} leapfrog dt = {dt} M = {int(M)} {prec}: t0 = {value:.1f} +- {err:.1f}  (max energy error "
              f"per site {np.max(r.health['energy_error']):.1e}, "
              f"{time.perf_counter() - w0:.0f} s)", flush=True)
    (v64, e64), (v32, e32) = out["float64"], out["float32"]
    print(f"g = {g}: t0(float32) - t0(float64) = {v32 - v64:+.1f}, {(v32 - v64) / np.hypot(e32, e64):+.2f} x the "
          f"combined bootstrap error (the same initial chains; chaos decorrelates the trajectories long before t0)",
          flush=True)


LONG_LADDERS = {"leapfrog": (0.125, 0.1, 0.08, 0.05, 0.04, 0.025, 0.02, 0.01),
                "aba864": (0.625, 0.5, 0.4, 0.25, 0.2, 0.125)}


def long_run_dt(spec, target, ladders=LONG_LADDERS):
    """Per scheme, the largest ladder dt whose worst-chain energy error stays <= target up
    to T (``spec`` ``G:T:M``; T a multiple of 10 so that every ladder dt divides it)."""
    g, t_run, M = (float(x) for x in spec.split(":"))
    chain = tnmbl.models.rotor(64, g)
    state = cs.gibbs(chain, int(M), beta=1.0, seed=[2022, int(round(1000 * g))])
    best = {}
    for scheme, ladder in ladders.items():
        for dt in ladder:
            if dt > 0.98 * K.rotor_dt_max(scheme, g):
                continue
            c0 = time.process_time()
            r = tnmbl.evolve(chain, state, scheme, dt=dt, t_final=t_run, n_log=60, observables=["phi"],
                             energy_tolerance=1.0, threads=1)
            cpu = (time.process_time() - c0) / (M * 64 * t_run)
            e = np.asarray(r.health["energy_error"])
            at = [float(e[: max(1, np.searchsorted(r.times, f * t_run, side="right"))].max()) for f in (0.01, 0.1, 1)]
            ok = at[-1] <= target
            print(f"  g = {g} {scheme:8s} dt = {dt:<6g} worst-chain error per site by T/100, T/10, T: "
                  + ", ".join(f"{x:.1e}" for x in at) + f"   {cpu:.2e} CPU-s per site-time   "
                  + ("meets" if ok else "fails") + f" {target:g}", flush=True)
            if ok:
                best[scheme] = (dt, at[-1], cpu)
                break
    if best:
        cheap = min(best, key=lambda s: best[s][2])
        others = ", ".join(f"{s} {best[s][2] / best[cheap][2]:.2f}x" for s in best if s != cheap)
        print(f"g = {g}, T = {t_run:g}, M = {int(M)}: cheapest meeting {target:g}: {cheap} at dt = {best[cheap][0]:g}"
              f" ({others} its cost; load {os.getloadavg()[0]:.1f})", flush=True)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--g", type=float, nargs="+", default=[1.0, 0.3, 0.1])
    ap.add_argument("--target", type=float, default=1e-4)
    ap.add_argument("--t-max", type=float, default=50.0)
    ap.add_argument("--t-drift", type=float, default=1000.0)
    ap.add_argument("--drift", nargs="+", metavar="SCHEME:DT:PRECISION",
                    help="only measure the drift of these configs at each --g over --t-drift (the long check); "
                         "PRECISION: float64, float32 (angles compensated), float32-full, float32-plain")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--M", type=int, default=1024)
    ap.add_argument("--run-chains", type=int, default=4096)
    ap.add_argument("--run-t", type=float, nargs="+", default=None,
                    help="simulated time of the study run per g (default: 3 x the issue's t0 estimate)")
    ap.add_argument("--engine", action="store_true", help="only the engine table: leapfrog and aba864, float64 and "
                    "float32, site-updates per simulated time unit per CPU-s at dt* (run path)")
    ap.add_argument("--t0-check", nargs="+", metavar="G:DT:M:T", help="only t0 in float64 and float32, same chains")
    ap.add_argument("--long", nargs="+", metavar="G:T:M", help="only the long-run dt of leapfrog and aba864 "
                    "(worst-chain error <= --target up to T, M chains) and which is cheaper")
    args = ap.parse_args()
    L = 64
    print(f"threads {numba.get_num_threads()}, cpus {os.cpu_count()}, load {os.getloadavg()}")
    if args.long:
        for spec in args.long:
            long_run_dt(spec, args.target)
        return
    if args.t0_check:
        for spec in args.t0_check:
            t0_check(spec)
        return
    if args.engine:
        for g in args.g:
            dts, rate = engine_rates(g, args.target, args.t_max, args.repeats)
            base = rate[("leapfrog", "float64")]
            print(f"\ng = {g}, engine (run path), one thread, energy error per site <= {args.target:g}: "
                  f"site-updates (one site by one time unit) per CPU-s (medians of {args.repeats} interleaved rounds; "
                  f"load {os.getloadavg()[0]:.1f})")
            for c, v in rate.items():
                print(f"  {c[0]:9s} {c[1]:8s} dt* = {dts[c]:.4f}  {v:.3g}  x{v / base:.2f} vs leapfrog float64"
                      f"  x{v / rate[(c[0], 'float64')]:.2f} vs its float64")
        return
    if args.drift:
        for g in args.g:
            st = cs.gibbs(tnmbl.models.rotor(L, g), 64, beta=1.0, seed=11)
            q, p = st.canonical()
            for spec in args.drift:
                sch, dt, prec = spec.split(":")
                t0 = time.perf_counter()
                r, e = drift_rate(q, p, g, sch, float(dt), args.t_drift, prec)
                print(f"g = {g} {sch} dt = {dt} {prec}: drift {r:+.2e} +- {e:.0e} per site per time unit over "
                      f"t = {args.t_drift:g} (64 chains)  [{time.perf_counter() - t0:.0f} s]", flush=True)
        return
    r, rw, loads = rates(CONFIGS, args.M, L, args.repeats)
    print(f"\nspeed, one thread: M = {args.M}, L = {L}, medians of {args.repeats} interleaved rounds; load during: "
          f"{min(loads):.1f}-{max(loads):.1f}")
    base = r[("leapfrog", "float64")]
    for c in CONFIGS:
        print(f"  {c[0]:9s} {c[1]:12s} {r[c]:.3g} site-kicks per CPU-s ({rw[c]:.3g} per wall-s)   "
              f"x{r[c] / base:.2f} vs leapfrog float64")
    t0_guess = {1.0: 10.0, 0.3: 1e3, 0.2: 1e4, 0.15: 3e5, 0.1: 3e6}  # issue 15 / Fig. 2 (g = 1: t0 ~ 1-10)
    for gi, g in enumerate(args.g):
        t_run = args.run_t[gi] if args.run_t else 3 * t0_guess.get(g, 1e4)
        chain = tnmbl.models.rotor(L, g)
        st = cs.gibbs(chain, 64, beta=1.0, seed=7)
        q, p = st.canonical()
        print(f"\ng = {g}: energy error per site <= {args.target:g} (worst of 64 chains, t <= {args.t_max:g})")
        print("  scheme    precision     dt*      err       kicks/time  CPU-s per (site * time unit)  cost / leapfrog")
        rows = {}
        for c in CONFIGS:
            dt, err, note = dt_at_target(q, p, g, c[0], c[1], args.target, args.t_max)
            kpt = ROTOR_SCHEMES[c[0]].kicks / dt
            cost = kpt / r[c]
            rows[c] = (dt, err, kpt, cost, note)
        c0 = rows[("leapfrog", "float64")][3]
        for c, (dt, err, kpt, cost, note) in rows.items():
            print(f"  {c[0]:9s} {c[1]:12s} {dt:7.4f}  {err:8.2e}  {kpt:10.1f}  {cost:.3e}               "
                  f"{cost / c0:6.3f}  {note}")
        sites = args.run_chains * L
        lf01 = sites * t_run * (1 / 0.01) / r[("leapfrog", "float64")] / 3600
        best = min(rows, key=lambda c: rows[c][3])
        lf_star = sites * t_run * rows[("leapfrog", "float64")][3] / 3600
        print(f"  a run of {args.run_chains} chains x {L} sites to t = {t_run:.0e}: leapfrog float64 at dt = 0.01 "
              f"(the paper's) {lf01:.3g} CPU-h; leapfrog at its dt* {lf_star:.3g} CPU-h; cheapest, "
              f"{best[0]} {best[1]}: {sites * t_run * rows[best][3] / 3600:.3g} CPU-h")
        for sch, prec in [c for c in CONFIGS if c[1].startswith("float32")]:
            dt = rows[(sch, prec)][0]
            r64, e64 = drift_rate(q, p, g, sch, dt, args.t_drift, "float64")
            r32, e32 = drift_rate(q, p, g, sch, dt, args.t_drift, prec)
            print(f"  drift of {sch} at dt = {dt:.3f} (mean energy per site per time unit over t = "
                  f"{args.t_drift:g}): float64 {r64:+.1e} +- {e64:.0e}, {prec} {r32:+.1e} +- {e32:.0e}; "
                  f"{args.target:g} / t_run = {args.target / t_run:.0e}")

if __name__ == "__main__":
    main()
