"""Does grading on a Dask cluster give the same results as the local run, into the same OUT?"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CACHE_DIR, ROOT, comparable_results

distributed = pytest.importorskip("distributed")


@pytest.mark.slow
def test_local_cluster_results_equal_the_local_run(run_cli, tmp_path: Path) -> None:
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("correct.py", "transposed-v.py", "syntax-error.py"):
        shutil.copy(ROOT / "submissions" / name, folder / name)
    args = ["--cache-dir", str(CACHE_DIR), "--no-pdf"]
    local = run_cli("grade", str(folder), "--out", str(tmp_path / "local"), "--jobs", "1", *args)
    assert local.code == 0, local.err
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        remote = run_cli(
            "grade", str(folder), "--out", str(tmp_path / "dask"), "--dask-scheduler", cluster.scheduler_address, *args
        )
        assert remote.code == 0, remote.err
        again = run_cli(
            "grade", str(folder), "--out", str(tmp_path / "dask"), "--dask-scheduler", cluster.scheduler_address, *args
        )
        assert "up to date 3" in again.out  # resume rules hold on the cluster path too
    assert comparable_results(tmp_path / "local") == comparable_results(tmp_path / "dask")
    assert (tmp_path / "local" / "gradebook.csv").read_text() == (tmp_path / "dask" / "gradebook.csv").read_text()


def test_unreachable_scheduler_is_a_clear_error(run_cli, tmp_path: Path) -> None:
    result = run_cli(
        "grade", str(ROOT / "submissions" / "correct.py"), "--out", str(tmp_path), "--cache-dir", str(CACHE_DIR),
        "--no-pdf", "--dask-scheduler", "tcp://127.0.0.1:9",
    )  # fmt: skip
    assert result.code == 2 and "cannot connect" in result.err
