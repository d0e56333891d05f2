"""Helpers of the run tests: small valid configs (L = 6) and writing them to YAML."""


import yaml


def small_config(tmp_path, method="tebd2", name="small", t_final=0.6, **output):
    """A valid config dict: Bose-Hubbard L=6 bubble, results under ``tmp_path``."""
    return {
        "description": "test run",
        "seed": 5,
        "model": {"name": "bose_hubbard", "L": 6, "U": 1.0, "g": 0.3, "n_max": 2, "W": 0.4},
        "state": {"kind": "bubble", "region": [2, 4], "background": 2, "inside": 0},
        "evolution": {"method": method, "dt": 0.05, "t_final": t_final, "chi_max": 16},
        "observables": {"names": ["density", "energy_density", "energy_current"], "output_dt": 0.1},
        "output": {"path": str(tmp_path / f"{name}.h5"), "figure": False, **output},
    }


def write_config(tmp_path, raw, name="cfg"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


class StopAfter:
    """A progress hook that interrupts the run (like Ctrl-C) after ``n`` rows."""

    def __init__(self, n):
        self.n = n

    def start(self, **kw):
        pass

    def row(self, row, *, n_rows, total_rows):
        if n_rows >= self.n:
            raise KeyboardInterrupt

    def note(self, text):
        pass

    def finish(self):
        pass
