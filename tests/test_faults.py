"""Faults: the solver missing or killed, a full disk. Each ends with a clear status and
message, temporary files removed, and any earlier complete result still complete."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys

import pytest

from tests.helpers import profession, write_dataset


@pytest.fixture
def dataset(tmp_path):
    return write_dataset(
        tmp_path / "ds", professions=[profession("p")],
        workforce=[{"profession": "p", "region": "r1", "stock_wte": 0}],
        demand=[{"profession": "p", "region": "r1", "year": 2021, "demand_wte": 10}],
        budget=[{"year": 2021, "budget_gbp": 6000}])


def run_cli(*args, env=None, preexec_fn=None, tmpdir=None):
    environment = {**os.environ, **(env or {})}
    if tmpdir is not None:
        environment["TMPDIR"] = str(tmpdir)
    return subprocess.run([sys.executable, "-m", "optimiser", *map(str, args)], capture_output=True,
                          text=True, env=environment, preexec_fn=preexec_fn, timeout=120)


def earlier_result(dataset, out):
    done = run_cli("run", dataset, "-o", out)
    assert done.returncode == 0, done.stderr
    return json.loads((out / "summary.json").read_text())


def test_solver_missing(dataset, tmp_path):
    out = tmp_path / "out"
    before = earlier_result(dataset, out)
    result = run_cli("run", dataset, "-o", out, env={"OPTIMISER_CBC_PATH": str(tmp_path / "no-cbc")})
    assert result.returncode == 4
    assert "the CBC solver cannot be run" in result.stderr and "Traceback" not in result.stderr
    assert json.loads((out / "summary.json").read_text()) == before


def test_solver_killed(dataset, tmp_path):
    """A 'CBC' that dies by SIGKILL mid-solve: clear message, scratch folder cleaned."""
    killer = tmp_path / "cbc-killed"
    killer.write_text("#!/bin/sh\nkill -9 $$\n")
    killer.chmod(0o755)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    out = tmp_path / "out"
    before = earlier_result(dataset, out)
    result = run_cli("run", dataset, "-o", out, env={"OPTIMISER_CBC_PATH": str(killer)}, tmpdir=scratch)
    assert result.returncode == 4
    assert "crashed or was killed" in result.stderr and "Traceback" not in result.stderr
    assert json.loads((out / "summary.json").read_text()) == before
    assert list(scratch.iterdir()) == []


def _small_disk():
    """A 'full disk' for the child: files may not grow past 1 KB (writes fail with EFBIG)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def test_disk_full_while_solving(dataset, tmp_path):
    """Files may not grow past 1 KB: the solver's scratch files fail first. A clear status,
    no traceback, and the earlier result is untouched."""
    out = tmp_path / "out"
    before = earlier_result(dataset, out)
    result = run_cli("run", dataset, "-o", out, preexec_fn=_small_disk)
    assert result.returncode in (1, 4)
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert json.loads((out / "summary.json").read_text()) == before


def test_disk_full_while_writing_results(dataset, tmp_path, monkeypatch):
    """No space left when the third result file is written: exit 1, message, and the earlier
    result folder complete and unchanged; no staging folder left behind."""
    import errno

    from click.testing import CliRunner

    from optimiser import pipeline
    from optimiser.cli import main

    out = tmp_path / "out"
    before = earlier_result(dataset, out)
    listing = sorted(p.name for p in out.iterdir())
    written = []
    original = pipeline.csv_bytes

    def filling(frame):
        written.append(frame)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", "results file")
        return original(frame)

    monkeypatch.setattr(pipeline, "csv_bytes", filling)
    result = CliRunner().invoke(main, ["run", str(dataset), "-o", str(out)])
    assert result.exit_code == 1
    assert "could not write" in result.output and "No space left on device" in result.output
    assert json.loads((out / "summary.json").read_text()) == before
    assert sorted(p.name for p in out.iterdir()) == listing
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_interrupt_while_writing_keeps_the_earlier_result(dataset, tmp_path, monkeypatch):
    """Ctrl-C arriving in the middle of writing the results folder."""
    from optimiser import output, pipeline

    out = tmp_path / "out"
    before = earlier_result(dataset, out)
    def interrupted(frame):
        output.csv_bytes(frame)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "csv_bytes", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.run(dataset, out)
    assert json.loads((out / "summary.json").read_text()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []
