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
|E(t) - E(0)| / L <= target, on a Gibbs batch (beta = 1, L = 64, 64 chains, t <= 100).

float32 also drifts (round-off is not symplectic): its mean energy per site is measured over
a longer run at the chosen dt, and the drift rate (per unit time) is printed with the time
at which it would spend the whole target -- float32 is usable only for runs shorter than
that.

Speed: site kicks (one site, one force evaluation) per second of each (scheme, precision),
all threads, interleaved over ``--repeats`` rounds; medians printed with the load average.
Cost per unit simulated time per site = (kicks per step / dt) / rate.
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np

import tnmbl
from tnmbl.engines.classical import kernels_sym as K
from tnmbl.engines.classical.schemes import ROTOR_SCHEMES
from tnmbl.states import classical as cs

CONFIGS = [("leapfrog", "float64"), ("yoshida4", "float64"), ("aba864", "float64"), ("srkn6b", "float64"),
           ("srkn14a", "float64"), ("leapfrog", "float32"), ("aba864", "float32")]


def energy_error(q, p, g, scheme, dt, t_max, precision, samples=50):
    e0 = K.rotor_energy(q, p, g)
    L = q.shape[1]
    n_total = max(1, int(round(t_max / dt)))
    every = max(1, n_total // samples)
    err = 0.0
    done = 0
    while done < n_total:
        n = min(every, n_total - done)
        q, p = K.rotor_evolve(q, p, g, dt, n, scheme, precision=precision)
        done += n
        de = np.abs(K.rotor_energy(q, p, g) - e0) / L
        if not np.all(np.isfinite(de)):
            return np.inf
        err = max(err, float(de.max()))
    return err


def dt_at_target(q, p, g, scheme, precision, target, t_max):
    """Largest dt (log-interpolated on a ladder) with energy error <= target, capped by the
    linear stability bound."""
    dt_cap = 0.98 * K.rotor_dt_max(scheme, g)
    ladder = [d for d in 0.005 * 2 ** (np.arange(0, 16) / 2) if d <= min(dt_cap, 2.0)]
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


def drift_rate(q, p, g, scheme, dt, t_long):
    """Mean energy drift per site per unit time of the float32 kernel (linear fit)."""
    e0 = K.rotor_energy(q, p, g)
    L = q.shape[1]
    n = max(1, int(round(t_long / dt / 10)))
    ts, ds = [], []
    for k in range(10):
        q, p = K.rotor_evolve(q, p, g, dt, n, scheme, precision="float32")
        ts.append((k + 1) * n * dt)
        ds.append(float(np.mean(K.rotor_energy(q, p, g) - e0)) / L)
    return float(np.polyfit(ts, ds, 1)[0])


def rates(configs, M, L, repeats, seconds=0.4):
    rng = np.random.default_rng(0)
    q = rng.uniform(-np.pi, np.pi, (M, L))
    p = rng.normal(size=(M, L))
    n_steps = {}
    for sch, prec in configs:  # compile, and size each run to ~`seconds`
        K.rotor_evolve(q[:64], p[:64], 1.0, 0.1, 2, sch, precision=prec)
        t0 = time.perf_counter()
        K.rotor_evolve(q, p, 1.0, 0.1, 5, sch, precision=prec)
        per = (time.perf_counter() - t0) / 5
        n_steps[(sch, prec)] = max(5, int(seconds / per))
    out = {c: [] for c in configs}
    loads = []
    for _ in range(repeats):
        for c in configs:
            n = n_steps[c]
            t0 = time.perf_counter()
            K.rotor_evolve(q, p, 1.0, 0.1, n, c[0], precision=c[1])
            out[c].append(M * L * n * ROTOR_SCHEMES[c[0]].kicks / (time.perf_counter() - t0))
        loads.append(os.getloadavg()[0])
    return {c: float(np.median(v)) for c, v in out.items()}, loads


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--g", type=float, nargs="+", default=[1.0, 0.3, 0.1])
    ap.add_argument("--target", type=float, default=1e-4)
    ap.add_argument("--t-max", type=float, default=100.0)
    ap.add_argument("--t-drift", type=float, default=2000.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--M", type=int, default=2048)
    args = ap.parse_args()
    L = 64
    print(f"threads {numba.get_num_threads()}, cpus {os.cpu_count()}, load {os.getloadavg()}")
    r, loads = rates(CONFIGS, args.M, L, args.repeats)
    print(f"\nspeed: M = {args.M}, L = {L}, medians of {args.repeats} interleaved rounds; load during: "
          f"{min(loads):.1f}-{max(loads):.1f}")
    base = r[("leapfrog", "float64")]
    for c in CONFIGS:
        print(f"  {c[0]:9s} {c[1]:8s} {r[c]:.3g} site-kicks/s   x{r[c] / base:.2f} vs leapfrog float64")
    for g in args.g:
        chain = tnmbl.models.rotor(L, g)
        st = cs.gibbs(chain, 64, beta=1.0, seed=7)
        q, p = st.canonical()
        print(f"\ng = {g}: energy error per site <= {args.target:g} (worst of 64 chains, t <= {args.t_max:g})")
        print("  scheme    precision  dt*      err       kicks/time  s per (site * time unit)  cost / leapfrog64")
        rows = {}
        for c in CONFIGS:
            dt, err, note = dt_at_target(q, p, g, c[0], c[1], args.target, args.t_max)
            kpt = ROTOR_SCHEMES[c[0]].kicks / dt
            cost = kpt / r[c]
            rows[c] = (dt, err, kpt, cost, note)
        c0 = rows[("leapfrog", "float64")][3]
        for c, (dt, err, kpt, cost, note) in rows.items():
            print(f"  {c[0]:9s} {c[1]:9s} {dt:7.4f}  {err:8.2e}  {kpt:10.1f}  {cost:.3e}               "
                  f"{cost / c0:6.3f}  {note}")
        for c in [x for x in CONFIGS if x[1] == "float32"]:
            dt = rows[c][0]
            rate = drift_rate(q, p, g, c[0], dt, args.t_drift)
            print(f"  float32 {c[0]} drift at dt = {dt:.3f}: {rate:+.2e} per site per time unit "
                  f"(spends the {args.target:g} budget by t ~ {args.target / max(abs(rate), 1e-300):.2g})")


if __name__ == "__main__":
    main()
