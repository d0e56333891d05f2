"""The same sweep on a 3-worker Dask LocalCluster equals the local-process result."""

import distributed  # a dev dependency: this must-show test runs everywhere, never skips
from helpers import assert_same_summary, completions, sweep_raw

from tnmbl.runs.sweep import plan_sweep, read_summary, run_sweep


def test_local_cluster_equals_local_processes(tmp_path, clean_sweep):
    plan_local, clean = clean_sweep
    with distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, dashboard_address=None) as cl, \
            distributed.Client(cl) as client:
        # by address, as `tnmbl sweep --scheduler tcp://...` does (run_sweep opens and closes its client)
        plan = plan_sweep(sweep_raw(tmp_path / "dask"), name="dask", scheduler=cl.scheduler_address)
        assert plan.scheduler.startswith("tcp://")
        res = run_sweep(plan)
        workers = {w["id"] for w in client.scheduler_info()["workers"].values()}
        ran_on = client.run(lambda: __import__("os").environ.get("OMP_NUM_THREADS"))
    assert not res["failed"], res["failed"]
    assert set(res["actions"].values()) == {"run"} and len(res["actions"]) == 12
    assert len(workers) == 3
    assert set(ran_on.values()) == {"1"}                  # one BLAS thread per worker (Dask's nanny sets it)
    assert set(completions(tmp_path / "dask").values()) == {1}
    assert_same_summary(read_summary(res["summary"]), clean)
    # the members themselves agree too (per member, not only the ensemble statistics)
    from tnmbl.runs.storage import read_results

    for a, b in zip(plan.members, plan_local.members):
        ra, rb = read_results(a.path), read_results(b.path)
        for name in ra["observables"]:
            assert (ra["observables"][name] == rb["observables"][name]).all()
