"""The examples run and say what they claim: ``examples/scenario_sweep.py`` on a real Dask cluster.

One two-process ``LocalCluster`` serves the whole module (starting one takes seconds); it is opened
and closed by context managers in the fixture, so it is closed even when a test fails.

Warnings are errors in this suite, and no filter is needed here: the cluster starts without a dashboard
(``dashboard_address=None`` in ``local_client``). With the default ``:8787``, a second cluster or any
other process on that port makes distributed emit ``UserWarning: Port 8787 is already in use`` and a
``ResourceWarning`` for the probing socket, which would fail these tests for reasons unrelated to them;
turning the dashboard off removes the cause instead of filtering the symptom.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from targetcascade import Plan, check

pytest.importorskip("distributed")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UNITS, RATES, PEOPLE = 2, 4, 300  # 8 scenarios of 300 people each: a few seconds in all


def _load_example(name: str) -> ModuleType:
    """Import ``examples/<name>.py`` as module ``name`` (examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


sweep = _load_example("scenario_sweep")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with sweep.local_client(workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def result(client: Any) -> Any:
    return sweep.run_sweep(
        client=client, units=UNITS, rates=RATES, people=PEOPLE, keep_plans=True, digest="json"
    )


class TestRunSweep:
    def test_cluster_results_equal_the_serial_run(self, result: Any) -> None:
        """Every summary from the cluster equals the serial one: digests, totals, splits, plans."""
        assert len(result.parallel) == UNITS * RATES
        assert result.mismatches == []
        assert result.parallel == result.serial
        assert len({s["digest"] for s in result.parallel}) == UNITS * RATES
        assert result.ok

    def test_ran_on_two_worker_processes(self, client: Any, result: Any) -> None:
        """Two worker processes, each holding every unit (shipped once), without malloc trimming."""
        assert len(result.worker_peak_rss_mb) == 2
        assert set(result.replicas.values()) == {2}
        trim = client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_")
        assert list(trim.values()) == [None, None]

    def test_every_plan_passes_check(self, result: Any) -> None:
        """Each returned plan, rebuilt here from its dict, checks ok and has the reported digest."""
        for summary in result.parallel:
            plan = Plan.from_dict(summary["plan"])
            assert check(plan).ok
            assert summary["check_ok"]
            assert summary["violations"] == 0
            assert sweep.json_digest(plan.to_dict()) == summary["digest"]

    def test_top_level_total_is_last_year_grown(self, result: Any) -> None:
        """The root's annual target is round(last year x (1 + g)); the top-level split adds up."""
        bases = {}
        for unit in result.units:
            base = unit.history[2026].quanta(unit.tree.root, "FY2026", "revenue")
            assert base is not None
            bases[unit.name] = base
        growths = {s["growth_bp"] for s in result.parallel}
        assert growths == {-500, 333, 1166, 2000}
        for summary in result.parallel:
            factor = 1 + Decimal(summary["growth_bp"]) / 10_000
            expected = (bases[summary["unit"]] * factor).quantize(Decimal(1), ROUND_HALF_EVEN)
            assert summary["total"] == int(expected)
            assert sum(summary["split"].values()) == int(expected)
            assert list(summary["split"]) == ["r0", "r1", "r2", "r3"]

    def test_bag_with_units_built_on_workers_gives_the_same_digests(
        self, client: Any, result: Any
    ) -> None:
        """dask.bag over the scenarios, units built on the workers from seeds: same bytes."""
        other = sweep.run_sweep(
            client=client,
            units=UNITS,
            rates=RATES,
            people=PEOPLE,
            api="bag",
            inputs="build",
            digest="json",
        )
        assert other.mismatches == []
        assert [s["digest"] for s in other.parallel] == [s["digest"] for s in result.parallel]


class TestCompare:
    def test_reports_a_changed_digest_and_total(self, result: Any) -> None:
        """A tampered summary is reported field by field, so the script exits non-zero."""
        tampered = [dict(s) for s in result.serial]
        tampered[3]["digest"] = "0" * 64
        tampered[3]["total"] += 1
        problems = sweep.compare(result.serial, tampered)
        assert len(problems) == 2
        assert "digest" in problems[0]
        assert "total" in problems[1]

    def test_a_difference_makes_the_sweep_fail(self, result: Any) -> None:
        """Any difference turns ``ok`` false, which ``main`` reports as exit status 1."""
        tampered = [dict(s) for s in result.serial]
        tampered[0]["split"] = {**tampered[0]["split"], "r0": tampered[0]["split"]["r0"] + 1}
        broken = dataclasses.replace(
            result, parallel=tampered, mismatches=sweep.compare(result.serial, tampered)
        )
        assert not broken.ok
        assert "split" in sweep.format_report(broken)

    def test_reports_a_missing_result(self, result: Any) -> None:
        """Fewer results from the cluster than scenarios is a difference."""
        assert sweep.compare(result.serial, result.serial[:-1]) != []


class TestMain:
    def test_exit_status_0_on_a_running_scheduler(
        self, client: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``--scheduler ADDRESS`` uses an existing cluster; identical results exit 0."""
        argv = ["--units", "1", "--rates", "2", "--people", "200"]
        status = sweep.main([*argv, "--scheduler", client.scheduler.address])
        out = capsys.readouterr().out
        assert status == 0
        assert "bu-1 -5.00%" in out
        assert "identical: all 2 digests" in out

    def test_missing_dask_names_the_extra(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Without distributed, the sweep fails with the extra to install (exit status 2)."""
        monkeypatch.setitem(sys.modules, "distributed", None)
        with pytest.raises(ImportError, match=r"targetcascade\[distributed\]"):
            sweep.run_sweep(units=1, rates=1, people=10)
        assert sweep.main([]) == 2
        assert "pip install 'targetcascade[distributed]'" in capsys.readouterr().err

    def test_without_dask_the_example_imports_and_exits_2_naming_the_extra(self) -> None:
        """Dask is imported lazily: without it the module imports and the sweep says what to install."""
        code = (
            "import sys; sys.modules['dask'] = sys.modules['distributed'] = None; "
            "import scenario_sweep; sys.exit(scenario_sweep.main(['--units', '1']))"
        )
        done = _run_python(code)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "pip install 'targetcascade[distributed]'" in done.stderr


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that can import targetcascade and the examples."""
    src = Path(__file__).resolve().parent.parent / "src"
    path = [str(src), str(EXAMPLES), os.environ.get("PYTHONPATH", "")]
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
