"""GPU kernels (tnmbl.engines.classical.gpu) against the CPU kernels: on the CPU through
numba's CUDA simulator (a subprocess, since the simulator is chosen when numba.cuda is
first imported; ~3 s), and on a real GPU where one is present (marked ``gpu``)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tnmbl.engines.classical import kernels_sym as K

COMPARE = textwrap.dedent("""
    import numpy as np
    from tnmbl.engines.classical import gpu, kernels_sym as K
    ok, why = gpu.available()
    assert ok, why
    rng = np.random.default_rng(0)
    M, L = {M}, {L}
    q = rng.uniform(-np.pi, np.pi, (M, L)); p = rng.normal(size=(M, L))
    g = rng.uniform(0.3, 1.0, L)
    def dq(a, b):
        return float(np.abs(np.angle(np.exp(1j * (np.asarray(a, float) - np.asarray(b, float))))).max())
    for scheme, dt in (("leapfrog", 0.05), ("aba864", 0.2), ("srkn14a", 0.3)):
        qg, pg = gpu.rotor_evolve_gpu(q, p, g, dt, {steps}, scheme)
        qc, pc = K.rotor_evolve(q, p, g, dt, {steps}, scheme)
        assert np.all(np.abs(qg) <= np.pi + 1e-12)
        print("rotor64", scheme, dq(qg, qc), float(np.abs(pg - pc).max()))
    for comp in (True, "full", False):
        qg, pg = gpu.rotor_evolve_gpu(q, p, g, 0.2, {steps}, "aba864", precision="float32", compensated=comp)
        qc, pc = K.rotor_evolve(q, p, g, 0.2, {steps}, "aba864", precision="float32", compensated=comp)
        assert qg.dtype == np.float32
        print("rotor32", f"aba864-{{comp}}", dq(qg, qc), float(np.abs(pg.astype(float) - pc).max()))
    psi = rng.normal(size=(M, L)) + 1j * rng.normal(size=(M, L))
    w = rng.uniform(-1, 1, L)
    for scheme in ("split2", "suzuki5"):
        pg = gpu.dnls_evolve_gpu(psi, w, 0.5, 0.3, 0.05, {steps}, scheme)
        pc = K.dnls_evolve(psi, w, 0.5, 0.3, 0.05, {steps}, scheme)
        print("dnls", scheme, float(np.abs(pg - pc).max()))
""")


def _parse(out):
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] in ("rotor64", "rotor32", "dnls"):
            rows[(parts[0], parts[1])] = [float(v) for v in parts[2:]]
    return rows


def _check(rows):
    assert len(rows) == 8, rows
    for (kind, scheme), errs in rows.items():
        # float64: the GPU's libm sine against the CPU polynomial (both ~1 ulp) over a few
        # steps of a chaotic chain (measured 1e-15); float32: sinf against psin32 (measured
        # 2e-7 to 5e-7 after 5 steps)
        tol = 1e-5 if kind == "rotor32" else 1e-12
        assert max(errs) < tol, (kind, scheme, errs)


def test_cuda_simulator_kernels_equal_the_cpu_kernels():
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    code = COMPARE.format(M=40, L=8, steps=5)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    _check(_parse(r.stdout))


def _real_gpu():
    try:
        from tnmbl.engines.classical import gpu
    except Exception as exc:  # pragma: no cover
        return False, str(exc)
    if gpu.simulator():
        return False, "NUMBA_ENABLE_CUDASIM is set: the simulator test covers it"
    return gpu.available()


@pytest.mark.gpu
@pytest.mark.skipif(not _real_gpu()[0], reason=f"no GPU: {_real_gpu()[1]}")
def test_gpu_kernels_equal_the_cpu_kernels_and_report_rates():
    r = subprocess.run([sys.executable, "-c", COMPARE.format(M=4096, L=64, steps=50)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    _check(_parse(r.stdout))
    from tnmbl.engines.classical import gpu

    for prec in ("float64", "float32"):
        print(prec, "GPU site-kicks/s", f"{gpu.site_updates_per_second(precision=prec):.3g}")


def test_gpu_module_reports_why_it_cannot_run():
    """Without a GPU (and without the simulator) available() says so instead of failing."""
    from tnmbl.engines.classical import gpu

    ok, why = gpu.available()
    assert ok or "CUDA" in why or "cuda" in why
    assert np.isfinite(K.rotor_dt_max("aba864", 1.0))
