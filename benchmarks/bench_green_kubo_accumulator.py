"""Cost of the rotor kappa(beta g) runs with and without the on-the-fly Green-Kubo accumulator
(``observables.green_kubo``), at one beta g, through the run machinery (results file and checkpoints
included), and the projection to 3 t0 at beta g = 0.15 and 0.1.

    TNMBL_THREADS=1 OMP_NUM_THREADS=1 nice -n 10 python benchmarks/bench_green_kubo_accumulator.py [--g 0.2]

"series": the per-chain total current stored at every step (output_dt = dt, per_chain:
[total_current]; the path of runs/sweeps/transport_kappa_rotor_betag.yaml before the accumulator).
"accumulator": rows every 1000 steps, the current measured every step and accumulated
(lag_max, sample_dt as in runs/sweeps/transport_kappa_rotor_betag_accumulated.yaml). The run is too
short to fill the ring, so the accumulator's steady cost per sample (all n_lag lags) is timed
apart on a full ring and added. CPU seconds (process time) per unit of simulated time.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from tnmbl.engines.classical.correlator import CurrentCorrelator
from tnmbl.runs import runner
from tnmbl.runs.config import validate_config

#: t0 of the glassy Fig. 2 (README), beta = 1
T0 = {0.2: 63500.0, 0.15: 235500.0, 0.1: 2.07e6}


def config(path, g, M, dt, t_final, **obs):
    return {"seed": 1, "model": {"name": "rotor", "L": 64, "g": g, "bc": "periodic"},
            "state": {"kind": "gibbs", "beta": 1.0, "M": M},
            "evolution": {"method": "aba864", "dt": dt, "t_final": t_final, "energy_tolerance": 1e-2, "threads": 1},
            "observables": {"names": ["current_correlation"], **obs},
            "output": {"path": str(path), "figure": False, "checkpoint_every_s": 120}}


def timed_run(raw):
    cfg = validate_config(raw)
    t0 = time.process_time()
    runner.run(cfg)
    cpu = time.process_time() - t0
    return cpu, os.path.getsize(cfg.results_path), os.path.getsize(cfg.checkpoint_path)


def steady_sample_cost(M, n_lag, repeats=20):
    """CPU seconds of one accumulated sample on a full ring (every lag reached)."""
    c = CurrentCorrelator(M, n_lag, 1, 1.0)
    rng = np.random.default_rng(0)
    c.add(rng.normal(size=(n_lag + 1, M)))  # fill (and compile)
    x = rng.normal(size=(repeats, M))
    t0 = time.process_time()
    c.add(x)
    return (time.process_time() - t0) / repeats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--g", type=float, default=0.2)
    ap.add_argument("--M", type=int, default=2048)
    ap.add_argument("--dt", type=float, default=0.9)
    ap.add_argument("--series-t", type=float, default=450.0, help="t_final of the stored-series run")
    ap.add_argument("--acc-t", type=float, default=9000.0, help="t_final of the accumulator run")
    ap.add_argument("--lag-max", type=float, default=95040.0)
    ap.add_argument("--sample-dt", type=float, default=90.0)
    a = ap.parse_args(argv)
    out = {"g": a.g, "M": a.M, "dt": a.dt, "L": 64}
    with tempfile.TemporaryDirectory(dir="out" if Path("out").is_dir() else None) as tmp:
        tmp = Path(tmp)
        timed_run(config(tmp / "warm.h5", a.g, 64, a.dt, 10 * a.dt, output_dt=a.dt,
                         green_kubo={"lag_max": 2 * a.dt, "sample_dt": a.dt}))  # compile everything once
        cpu, size, ck = timed_run(config(tmp / "series.h5", a.g, a.M, a.dt, a.series_t, output_dt=a.dt,
                                         per_chain=["total_current"]))
        out["series"] = {"t_final": a.series_t, "cpu_s": cpu, "cpu_per_time": cpu / a.series_t,
                         "results_bytes_per_time": size / a.series_t, "checkpoint_bytes": ck}
        gk = {"lag_max": a.lag_max, "sample_dt": a.sample_dt}
        cpu, size, ck = timed_run(config(tmp / "acc.h5", a.g, a.M, a.dt, a.acc_t, output_dt=1000 * a.dt,
                                         green_kubo=gk))
    n_lag = round(a.lag_max / a.sample_dt) + 1
    n_run = round(a.acc_t / a.sample_dt)
    per_sample = steady_sample_cost(a.M, n_lag)
    # the run's own samples reached on average half the lags: add the rest of the steady cost
    steady = cpu / a.acc_t + per_sample * (1 - min(1.0, n_run / (2 * n_lag))) / a.sample_dt
    out["accumulator"] = {"t_final": a.acc_t, "lag_max": a.lag_max, "sample_dt": a.sample_dt, "n_lag": n_lag,
                          "cpu_s": cpu, "cpu_per_time_run": cpu / a.acc_t, "sample_cpu_s": per_sample,
                          "cpu_per_time_steady": steady, "results_bytes": size, "checkpoint_bytes": ck,
                          "memory_bytes": 2 * 8 * n_lag * a.M}
    out["ratio"] = out["series"]["cpu_per_time"] / steady
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
