"""pip installs the package into a virtual environment with nothing but
Debian's packages and Go (no index reached), and it works there."""

import os
import subprocess

import pytest

from conftest import REPO


def test_pip_install_into_a_venv(tmp_path):
    py = "/usr/bin/python3"
    if subprocess.run([py, "-c", "import venv, ensurepip"], capture_output=True).returncode != 0:
        pytest.skip("no venv/ensurepip in /usr/bin/python3 (Debian's python3-venv)")
    env_dir = tmp_path / "env"
    subprocess.run([py, "-m", "venv", "--system-site-packages", str(env_dir)], check=True)
    pip = [str(env_dir / "bin" / "python"), "-m", "pip"]
    r = subprocess.run(pip + ["install", "-q", "--no-index", "--no-build-isolation", os.path.join(REPO, "python")],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    code = ("import dlnmf, numpy as np, os; r = np.random.default_rng(0).standard_normal((2, 3000)); "
            "sdr = dlnmf.bss_eval_sources(r, r + 0.1 * r[::-1])[0]; print(os.path.dirname(dlnmf.__file__), sdr.round(2))")
    env = {k: v for k, v in os.environ.items() if k not in ("DLNMF_LIB", "PYTHONPATH")}
    r = subprocess.run([str(env_dir / "bin" / "python"), "-c", code], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    where, sdr = r.stdout.split(" ", 1)
    assert where.startswith(str(env_dir)), where  # the installed copy, not the repository's
    import dlnmf
    import numpy as np
    ref = np.random.default_rng(0).standard_normal((2, 3000))
    assert sdr.strip() == str(dlnmf.bss_eval_sources(ref, ref + 0.1 * ref[::-1])[0].round(2))
