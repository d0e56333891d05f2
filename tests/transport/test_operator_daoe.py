"""Operator TEBD + DAOE (:mod:`tnmbl.engines.operator_tebd`) and the diffusion estimator.

References:

* gamma = 0 against the exact evolution of the *same Trotter circuit* (dense ``D x D``
  operators, gates ``exp(-i tau h_b)`` in TeNPy's Suzuki order) for the spin models at
  L = 8 (tolerance 1e-10: no truncation, only round-off), and against exact
  :math:`e^{iHt}` (:mod:`tnmbl.engines.exact_thermal`) for Bose-Hubbard (n_max = 2, d = 3)
  where the TEBD4 Trotter error is below 1e-10 (g = 0.3); the spin models against exact
  :math:`e^{iHt}` need dt = 1/160 for 1e-8 (Trotter error 3e-8 at dt = 1/80): ``slow``.
* the DAOE MPO against weights put on explicitly built operator strings (d = 2 and 3);
* the sum rules of the charge and the energy at several gamma (the bound is the truncation
  estimate); l_star = 1 breaks the energy sum rule (the control that shows the test bites);
* the XX chain against the Bessel form.
"""

from functools import reduce

import numpy as np
import pytest
import scipy.linalg as sla
from scipy.special import jv

import tnmbl.engines.operator_space as os_
import tnmbl.engines.operator_tebd as ot
import tnmbl.evolution.operator_correlations as oc
from tnmbl.chain import LocalOp, boson, charge_densities, energy_densities, spin_half
from tnmbl.engines.exact_thermal import exact_correlations
from tnmbl.errors import ObservableError, OptionError
from tnmbl.models.quantum import bose_hubbard, mixed_field_ising, xxz, xxz_with_bath
from tnmbl.states.mixed import Thermal
from tnmbl.testing import embed
from tnmbl.transport.diffusion import diffusion_constant

EXACT = dict(chi_max=4096, svd_cutoff=1e-14)


def spin_models():
    return {"xxz": xxz(8, g=1.0, J=0.4, W=1.0, seed=2),
            "xxz_with_bath": xxz_with_bath(8, g=1.0, J=0.3, W=3.0, bath=(0, 3), bath_hx=0.6, seed=3),
            "mixed_field_ising": mixed_field_ising(8)}


# ------------------------------------------------------------------------------------------ basis
@pytest.mark.parametrize("site", [spin_half(), boson(2)], ids=["d2", "d3"])
@pytest.mark.parametrize("conserve", [True, False])
def test_operator_basis(site, conserve):
    b = os_.operator_basis(site, conserve)
    d = site.dim
    gram = np.einsum("mab,nab->mn", b.matrices.conj(), b.matrices)
    assert np.abs(gram - np.eye(d * d)).max() < 1e-14
    assert np.abs(b.matrices[b.identity] - np.eye(d) / np.sqrt(d)).max() < 1e-15
    assert np.all(np.diff(b.charges) >= 0)
    for m, q in zip(b.matrices, b.charges):  # every element has its charge: q_ket - q_bra
        rows, cols = np.nonzero(np.abs(m) > 1e-14)
        dq = site.charges[rows] - site.charges[cols]
        assert np.all(dq == q) if conserve else q == 0
    rng = np.random.default_rng(1)
    m = rng.normal(size=(d * d, d * d)) + 1j * rng.normal(size=(d * d, d * d))
    c = b.coefficients(m, 2)
    assert np.abs(b.matrix(c) - m).max() < 1e-13
    assert abs(np.vdot(c, c) - np.trace(m.conj().T @ m) / d**2) < 1e-12  # Tr[O^dag O]/D = |c|^2


# ------------------------------------------------------------------------------- gamma = 0 vs exact
def trotter_circuit_reference(chain, a_ops, b, times, dt, order, direction="schrodinger"):
    """Tr[A_k O(t)]/D with O evolved by the dense gates of TeNPy's Suzuki-Trotter schedule."""
    from tenpy.algorithms.tebd import TEBDEngine

    L, d = chain.L, chain.site.dim
    h = [embed(op, L, d) for op in energy_densities(chain)]  # bond b on sites (b, b+1) = TeNPy bond b+1
    taus = TEBDEngine.suzuki_trotter_time_steps(order)
    cache = {}

    def gate(j, bond):
        if (j, bond) not in cache:
            cache[j, bond] = sla.expm(-1j * taus[j] * dt * h[bond])
        return cache[j, bond]

    O = embed(b, L, d)
    A = [embed(a, L, d) for a in a_ops]
    out, step = [], 0
    for t in times:
        n = int(round(t / dt)) - step
        for j, odd in TEBDEngine.suzuki_trotter_decomposition(order, n):
            for tb in range(int(odd) % 2, L, 2):  # TeNPy bond tb acts on sites (tb-1, tb)
                if tb == 0:
                    continue
                U = gate(j, tb - 1)
                O = U @ O @ U.conj().T if direction == "schrodinger" else U.conj().T @ O @ U
        step += n
        out.append([np.trace(a @ O) / d**L for a in A])
    return np.array(out)


@pytest.mark.parametrize("name", ["xxz", "xxz_with_bath", "mixed_field_ising"])
def test_gamma0_equals_same_trotter_circuit(name):
    chain = spin_models()[name]
    for ops in (charge_densities(chain), energy_densities(chain)):
        b = ops[len(ops) // 2]
        times, v, health = oc.infinite_t_correlations(chain, ops, b, t_max=0.6, dt=0.1, output_dt=0.3,
                                                      method="tebd4", **EXACT)
        ref = trotter_circuit_reference(chain, ops, b, times, 0.1, 4)
        assert np.abs(ref).max() > 0.1
        err = np.abs(v - ref).max()
        assert err < 1e-10, f"{name}: |operator TEBD4 - same circuit| = {err:.2e}"
    # the Heisenberg direction and TEBD2 through the same reference
    ops = charge_densities(chain)
    ev = ot.OperatorTEBD(chain, ops[3], dt=0.1, method="tebd2", direction="heisenberg", **EXACT)
    ev.advance(4)
    ref = trotter_circuit_reference(chain, ops, ops[3], [0.4], 0.1, 2, direction="heisenberg")[0]
    assert np.abs(ev.overlaps(ops) - ref).max() < 1e-10


def exact_infinite_t(chain, a_ops, b_ops, times):
    """Tr[A_k e^{-iHt} B_l e^{iHt}] / D, exact: H and the charge-neutral operators block by block in
    every charge sector (the full space; one block if H mixes charges), each block diagonalised.
    B(-t) is formed in the site basis so that each local A_k costs only its non-zeros (3x cheaper
    at L = 8, d = 3 than exact_thermal's transformation of every A_k, with which it agrees to
    1e-12: see the slow spin-model test)."""

    from tnmbl.chain import hamiltonian_terms
    from tnmbl.engines.exact import SectorBasis

    q = np.asarray(chain.site.charges)
    out = np.zeros((len(times), len(a_ops), len(b_ops)), dtype=complex)
    terms = hamiltonian_terms(chain)
    sectors = range(chain.L * q.min(), chain.L * q.max() + 1) if chain.conserves_charge else [None]
    for Q in sectors:
        if Q is not None and (Q - chain.L * q.min()) % np.gcd.reduce(q - q.min()) != 0:
            continue  # no configuration has this charge (spins: Q has the parity of L)
        basis = SectorBasis(chain.L, q, Q)
        H = sum(basis.operator(t) for t in terms).toarray()
        E, V = np.linalg.eigh(np.real_if_close(H, tol=1))
        A = [basis.operator(a).tocsr() for a in a_ops]
        for m, b in enumerate(b_ops):
            Bp = V.conj().T @ basis.operator(b).toarray() @ V
            for ti, t in enumerate(times):
                ph = np.exp(-1j * E * t)
                Bt = (V * ph) @ Bp @ (V * ph).conj().T  # e^{-iHt} B e^{iHt}
                for k, a in enumerate(A):
                    out[ti, k, m] += a.multiply(Bt.T).sum()
    return out / chain.site.dim ** chain.L


def test_currents_equal_same_trotter_circuit():
    # three-site energy currents and two-site charge currents as B and as A (Green-Kubo integrands)
    from tnmbl.chain import charge_currents, energy_currents

    chain = spin_models()["xxz"]
    for ops in (energy_currents(chain), charge_currents(chain)):
        b = ops[len(ops) // 2]
        times, v, _ = oc.infinite_t_correlations(chain, ops, b, t_max=0.4, dt=0.1, output_dt=0.2, method="tebd4",
                                                 **EXACT)
        ref = trotter_circuit_reference(chain, ops, b, times, 0.1, 4)
        assert np.abs(ref).max() > 0.1
        assert np.abs(v - ref).max() < 1e-10


def check_vs_exact(chain, t_max, dt, tol, cutoff=1e-14):
    q, h = charge_densities(chain), energy_densities(chain)
    bq, bh = q[len(q) // 2], h[len(h) // 2]
    out_dt = t_max  # t = 0 and t_max: the reference costs two dense products per time and sector
    opts = dict(chi_max=4096, svd_cutoff=cutoff)
    tq, vq, _ = oc.infinite_t_correlations(chain, q + h, bq, t_max=t_max, dt=dt, output_dt=out_dt, **opts)
    _, vh, _ = oc.infinite_t_correlations(chain, q + h, bh, t_max=t_max, dt=dt, output_dt=out_dt, **opts)
    ref = exact_infinite_t(chain, q + h, [bq, bh], tq)
    for v, r, what in ((vq, ref[:, :, 0], "density"), (vh, ref[:, :, 1], "energy density")):
        assert np.abs(r[-1]).max() > 0.05
        err = np.abs(v - r).max()
        assert err < tol, f"{chain.name} {what}: |operator TEBD4 - exact| = {err:.2e}"
    return tq, ref


def test_gamma0_equals_exact_bose_hubbard():
    # d = 3, g = 0.3: the TEBD4 Trotter error is small (2.4e-11 at dt = 1/80, t = 0.5), so exact e^{iHt}
    # is the reference. svd_cutoff 1e-10 (measured: 9e-11 from exact, 2.5x faster than 1e-14)
    check_vs_exact(bose_hubbard(8, U=1.0, g=0.3, n_max=2, W=0.5, seed=1), t_max=0.4, dt=0.025, tol=1e-8,
                   cutoff=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["xxz", "xxz_with_bath", "mixed_field_ising"])
def test_gamma0_equals_exact_spin_models(name):
    # measured Trotter error at dt = 1/80, t = 0.5: 7.7e-9 (xxz), 3.3e-8 (bath): halve dt
    chain = spin_models()[name]
    tq, ref = check_vs_exact(chain, t_max=0.5, dt=1 / 160, tol=1e-8)
    # the expm_multiply reference against the diagonalisation of exact_thermal
    q, h = charge_densities(chain), energy_densities(chain)
    diag = exact_correlations(chain, Thermal(0.0), q + h, [q[4], h[3]], tq)
    assert np.abs(diag - ref).max() < 1e-12


@pytest.mark.parametrize("conserve", [True, False])
def test_charged_operator_correlation(conserve):
    # <S+_x(t) S-_3>: the evolved operator carries charge -2 (kept as the MPS's total charge)
    chain = xxz(6, g=1.0, J=0.4, W=1.0, seed=2)
    a = [LocalOp((x,), chain.site.op("Sp").astype(complex)) for x in range(6)]
    b = LocalOp((3,), chain.site.op("Sm").astype(complex))
    t, v, _ = oc.infinite_t_correlations(chain, a, b, t_max=0.5, dt=0.01, output_dt=0.25, conserve=conserve, **EXACT)
    ref = exact_correlations(chain, Thermal(0.0), a, [b], t)[:, :, 0]  # full space (charged operators)
    assert np.abs(ref[-1]).max() > 0.1
    assert np.abs(v - ref).max() < 1e-9  # measured 3.0e-10 (TEBD4 Trotter error at dt = 0.01)


def test_daoe_every_chunking_and_resume():
    chain = xxz(6, g=1.0, J=0.4, W=1.0, seed=2)
    q = charge_densities(chain)
    kw = dict(dt=0.1, method="tebd2", gamma=0.3, l_star=1, daoe_every=2, **EXACT)
    one, many = ot.OperatorTEBD(chain, q[2], **kw), ot.OperatorTEBD(chain, q[2], **kw)
    one.advance(5)
    for _ in range(5):
        many.advance(1)
    assert one.n_daoe == many.n_daoe == 2  # after steps 2 and 4
    assert np.abs(one.overlaps(q) - many.overlaps(q)).max() < 1e-12
    assert one.norm() < 0.9  # the damping acted
    # resume: a fresh engine continued from the resume data equals the uninterrupted run
    a, b = ot.OperatorTEBD(chain, q[2], **kw), ot.OperatorTEBD(chain, q[2], **kw)
    a.advance(3)
    b.set_resume_data(a.get_resume_data())
    a.advance(3)
    b.advance(3)
    assert np.abs(a.overlaps(q) - b.overlaps(q)).max() < 1e-13 and a.n_daoe == b.n_daoe == 3
    assert a.truncation_error == pytest.approx(b.truncation_error, abs=1e-15)
    assert a.entanglement().shape == (chain.L - 1,) and a.entanglement().max() > 0.1
    plain = ot.OperatorTEBD(chain, q[2], **dict(kw, gamma=0.0))
    plain.advance(5)
    assert plain.n_daoe == 0 and abs(plain.norm() - 1.0) < 1e-12  # unitary: Tr[Z^2]/D = 1 kept


# ---------------------------------------------------------------------------------------- DAOE MPO
def random_operator(site, L, rng, charge=None):
    d = site.dim
    D = d**L
    m = rng.normal(size=(D, D)) + 1j * rng.normal(size=(D, D))
    if charge is not None:
        q = reduce(lambda a, b: (a[:, None] + b[None, :]).ravel(), [np.asarray(site.charges)] * L)
        m[q[:, None] - q[None, :] != charge] = 0.0
    return m


def strings_reference(basis, m, L, gamma, l_star):
    """Project m onto every basis string explicitly and weight it by exp(-gamma max(0, l - l_star))."""
    n = basis.n
    out = np.zeros_like(m)
    for mu in np.ndindex(*(n,) * L):
        P = reduce(np.kron, [basis.matrices[i] for i in mu])
        ell = sum(i != basis.identity for i in mu)
        out += np.exp(-gamma * max(0, ell - l_star)) * np.trace(P.conj().T @ m) * P
    return out


@pytest.mark.parametrize("site, L, conserve, charge", [
    (spin_half(), 4, False, None), (spin_half(), 4, True, 2), (boson(2), 3, False, None), (boson(2), 3, True, -1)],
    ids=["d2", "d2-charged", "d3", "d3-charged"])
@pytest.mark.parametrize("l_star", [1, 2])
def test_daoe_mpo_equals_string_projection(site, L, conserve, charge, l_star):
    rng = np.random.default_rng(7)
    basis = os_.operator_basis(site, conserve)
    sites = [os_.operator_site(basis, site.charge_name, conserve)] * L
    m = random_operator(site, L, rng, charge)
    psi = os_.mps_from_coefficients(sites, os_._split(basis.coefficients(m, L), basis.n, basis.charges))
    assert np.abs(basis.matrix(os_.dense_coefficients(psi)) - m).max() < 1e-12  # the MPS is m
    gamma = 0.7
    err = os_.daoe_mpo(sites, basis.identity, gamma, l_star).apply(
        psi, {"compression_method": "SVD", "trunc_params": {"chi_max": 10**6, "svd_min": None}})
    got = basis.matrix(os_.dense_coefficients(psi))
    ref = strings_reference(basis, m, L, gamma, l_star)
    assert np.abs(ref - m).max() > 0.1  # the weights changed something
    assert np.abs(got - ref).max() < 1e-12 * max(1.0, np.abs(m).max())
    assert err.eps < 1e-20
    # the engine's dense weights agree with the explicit count
    c = basis.coefficients(m, L)
    w = os_.daoe_weights(L, basis.n, basis.identity, gamma, l_star)
    assert np.abs(basis.matrix(w * c) - ref).max() < 1e-12 * max(1.0, np.abs(m).max())


# ---------------------------------------------------------------------------------------- sum rules
SUM_CHAIN = dict(L=10, g=1.0, J=0.5, W=0.5, seed=4)
# every gate conserves Q exactly; the Trotter circuit conserves H only up to its own error:
# measured for this chain, TEBD4, t = 2, no truncation: 4.8e-5 at dt = 0.1, 3.0e-6 at dt = 0.05
TROTTER_ALLOWANCE = {"density": 1e-12, "energy_density": 1e-4}


def sum_drift(name, gamma, l_star, chi_max=24, svd_cutoff=1e-12, L=SUM_CHAIN["L"]):
    chain = xxz(**dict(SUM_CHAIN, L=L))
    ops = charge_densities(chain) if name == "density" else energy_densities(chain)
    times, v, health = oc.infinite_t_correlations(chain, ops, ops[len(ops) // 2], t_max=2.0, dt=0.1, output_dt=0.5,
                                                  method="tebd4", chi_max=chi_max, svd_cutoff=svd_cutoff,
                                                  gamma=gamma, l_star=l_star, connected=True)
    total = v.sum(axis=1)
    return np.abs(total - total[0]), health


@pytest.mark.parametrize("name", ["density", "energy_density"])
@pytest.mark.parametrize("gamma", [0.0, 0.2, 1.0])
def test_sum_rules(name, gamma):
    # chi = 24 truncates: bound = the truncation estimate of every term, summed, + the Trotter allowance
    drift, health = sum_drift(name, gamma, l_star=2)
    bound = health["error_estimate"].sum(axis=1) + TROTTER_ALLOWANCE[name]
    assert np.all(drift <= bound), f"{name} gamma={gamma}: drift {drift.max():.2e} vs bound {bound}"
    assert health["truncation_error"][-1] > 0
    if gamma > 0:
        assert health["norm"][-1] < 0.9 * health["norm"][0]  # DAOE damped the operator
        assert drift.max() < 1e-3  # measured <= 8e-5 (a damped l <= 2 string would make it O(1))


@pytest.mark.parametrize("name", ["density", "energy_density"])
@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_sum_rules_without_truncation(name, gamma):
    # no truncation (L = 8, chi up to 256): the charge sum is exact, the energy sum within the Trotter error
    drift, health = sum_drift(name, gamma, l_star=2, chi_max=4096, svd_cutoff=1e-14, L=8)
    assert health["truncation_error"][-1] < 1e-20
    assert drift.max() < TROTTER_ALLOWANCE[name], f"{name} gamma={gamma}: drift {drift.max():.2e}"


def test_energy_sum_rule_needs_l_star_2():
    # the two-site energy density has strings of length 2: l_star = 1 damps them (the control)
    drift, health = sum_drift("energy_density", 1.0, l_star=1)
    assert drift.max() > 100 * (health["error_estimate"][-1].sum() + 1e-8)


# --------------------------------------------------------------------------------------- XX chain
def test_xx_chain_bessel():
    r"""H = g sum (X X + Y Y) = 2g sum (S+ S- + h.c.): Jordan-Wigner hopping 2g, dispersion 4g cos k,
    so <Z_x(t) Z_0> = 4 |<c_x(t) c_0^+>|^2 / ... = J_x(4 g t)^2 at infinite temperature (infinite chain).
    g = 0.25 keeps the front (4 g t = 10 sites at t = 10) 10 sites from the ends of L = 40."""
    g, L = 0.25, 40
    # conserve=False: at chi = 4 TeNPy's charge bookkeeping costs more than it saves (2.3x slower)
    c = oc.operator_correlations(xxz(L, g=g, J=0.0), "density", t_max=10.0, dt=0.2, output_dt=1.0, method="tebd4",
                                 chi_max=64, svd_cutoff=1e-12, conserve=False)
    ref = jv(c.distance[None, :], 4 * g * c.times[:, None]) ** 2
    err = np.abs(c.values - ref).max()
    assert err < 1e-6, f"XX chain: max |C - J_x(4gt)^2| = {err:.2e} (measured 4.4e-7 at dt = 0.2)"
    assert c.chi.max() <= 8  # a free-fermion bilinear: bounded operator entanglement
    d = diffusion_constant(c.times, c.distance, c.values)
    # ballistic: sigma^2 = sum_x x^2 J_x(z)^2 = z^2 / 2 = 8 g^2 t^2, so D(t) = 8 g^2 t
    assert np.abs(d.variance - 8 * g**2 * c.times**2).max() < 1e-4
    assert np.abs(d.D[1:-1] - 8 * g**2 * c.times[1:-1]).max() < 1e-4


@pytest.mark.parametrize("l_star", [1, 2])
def test_xx_chain_daoe_vs_free_fermions(l_star):
    r"""DAOE inside the evolution, against an independent single-particle computation. On the XX
    chain Z_0(t) stays a fermion bilinear sum_ab 2 M_ab c_a^+ c_b (+ identity), and the Pauli string
    of c_a^+ c_b (a != b) has |a - b| + 1 non-identity sites (Jordan-Wigner), so DAOE is
    M_ab -> M_ab exp(-gamma max(0, |a-b| + 1 - l_star)) and <Z_x(t) Z_0> = M_xx(t)."""
    g, L, dt, gamma = 0.25, 24, 0.2, 0.5
    c = oc.operator_correlations(xxz(L, g=g, J=0.0), "density", t_max=4.0, dt=dt, output_dt=1.0, method="tebd4",
                                 chi_max=128, svd_cutoff=1e-12, conserve=False, gamma=gamma, l_star=l_star)
    hop = np.diag(np.full(L - 1, 2 * g), 1)
    u = sla.expm(-1j * dt * (hop + hop.T))
    x = np.arange(L)
    W = np.where(x[:, None] == x[None, :], 1.0,
                 np.exp(-gamma * np.maximum(0, np.abs(x[:, None] - x[None, :]) + 1 - l_star)))
    M = np.zeros((L, L), complex)
    M[L // 2, L // 2] = 1.0
    ref = [np.diag(M).real.copy()]
    for _ in range(int(round(4.0 / dt))):
        M = W * (u @ M @ u.conj().T)
        ref.append(np.diag(M).real.copy())
    ref = np.array(ref)[::5]
    err = np.abs(c.values - ref).max()
    assert err < 1e-6, f"l_star={l_star}: |DAOE engine - free fermions| = {err:.2e}"
    ballistic = jv(c.distance[None, :], 4 * g * c.times[:, None]) ** 2
    assert np.abs(ref - ballistic).max() > 0.05  # DAOE changed the profile
    # the variance: l_star = 1 slows the spreading; l_star = 2 keeps sigma^2 = 8 g^2 t^2 (measured)
    var = diffusion_constant(c.times, c.distance, c.values).variance
    if l_star == 1:
        assert var[-1] < 0.5 * 8 * g**2 * c.times[-1] ** 2
    else:
        assert np.abs(var - 8 * g**2 * c.times**2).max() < 1e-5


# ---------------------------------------------------------------------------------------- estimator
def test_diffusion_estimator_gaussian():
    D, x = 0.37, np.arange(-60, 61, dtype=float)
    t = np.linspace(2.0, 20.0, 10)
    prof = np.exp(-((x[None, :] - 1.5) ** 2) / (4 * D * t[:, None]))
    prof *= 2.5 / prof.sum(axis=1, keepdims=True)
    res = diffusion_constant(t, x, prof)
    assert np.abs(res.D - D).max() < 1e-3  # discrete lattice Gaussian: sigma^2 = 2 D t up to ~exp(-pi^2 D t)
    assert np.allclose(res.total, 2.5) and np.allclose(res.centre, 1.5)
    with pytest.raises(ObservableError):
        diffusion_constant(t[:2], x, prof[:2])


# --------------------------------------------------------------------------------------- refusals
@pytest.fixture
def no_compute(monkeypatch):
    """Any refusal must come before the superoperators are built."""
    def boom(*a, **k):
        raise AssertionError("computed before refusing")
    monkeypatch.setattr(ot, "superoperator", boom)


@pytest.mark.parametrize("kwargs, key", [
    (dict(gamma=-0.1, l_star=2), "gamma"),
    (dict(gamma=float("nan"), l_star=2), "gamma"),
    (dict(gamma=0.1, l_star=0), "l_star"),
    (dict(gamma=0.1), "l_star"),
    (dict(gamma=0.1, l_star=2, daoe_every=0), "daoe_every"),
    (dict(dt=0.0), "dt"),
    (dict(chi_max=0), "chi_max"),
    (dict(method="rk4"), "method"),
])
def test_bad_options_refused(no_compute, kwargs, key):
    chain = xxz(6)
    with pytest.raises(OptionError) as exc:
        ot.OperatorTEBD(chain, charge_densities(chain)[2], **kwargs)
    assert exc.value.key == key


def test_bad_time_grid_refused(no_compute):
    chain = xxz(6)
    q = charge_densities(chain)
    for kw, key in ((dict(t_max=1.0, dt=0.1, output_dt=0.25), "output_dt"), (dict(t_max=1.05, dt=0.1), "t_max"),
                    (dict(t_max=1.0, dt=-0.1), "dt"), (dict(t_max=1.0, dt=0.1, direction="heisenberg"), "direction")):
        with pytest.raises(OptionError) as exc:
            oc.infinite_t_correlations(chain, q, q[2], **kw)
        assert exc.value.key == key
    with pytest.raises(OptionError) as exc:
        oc.operator_correlations(chain, "density", t_max=1.0, dt=0.1, y=99)
    assert exc.value.key == "y"


def test_charge_breaking_operator_refused(no_compute):
    chain = xxz(6)
    x = LocalOp((2,), spin_half().op("X").astype(complex))
    with pytest.raises(ObservableError) as exc:
        ot.OperatorTEBD(chain, x)  # conserve defaults to True for xxz
    assert exc.value.key == "operator" and "conserve=False" in exc.value.fix
    bath = xxz_with_bath(6, bath=(0, 3), bath_hx=0.5)
    with pytest.raises(OptionError) as exc:
        ot.OperatorTEBD(bath, x, conserve=True)
    assert exc.value.key == "conserve"
    with pytest.raises(OptionError) as exc:
        ot.OperatorTEBD(xxz(6, bc="periodic"), x, conserve=False)
    assert exc.value.key == "method"
