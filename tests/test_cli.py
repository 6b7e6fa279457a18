"""Tests for the command line: the demo and checking a plan file."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from targetcascade import FiscalCalendar, Metric, OrgTree, Plan
from targetcascade.cli import main


def small_plan() -> Plan:
    tree = OrgTree.from_records(
        [{"id": "acme", "level": "company"}, {"id": "east", "parent": "acme", "level": "region"}]
    )
    rows = [
        {"node": "east", "period": f"FY2027-M{m:02d}", "metric": "deals", "value": 1}
        for m in range(1, 13)
    ]
    return Plan.from_leaf_values(
        tree, FiscalCalendar(fiscal_year=2027), [Metric(name="deals", unit="deal")], rows
    )


class TestMain:
    def test_demo_runs_and_checks_ok(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The demo cascades the synthetic company, prints targets, an ok check and explanations."""
        assert main(["demo"]) == 0
        out = capsys.readouterr().out
        assert "FY2027 revenue targets:" in out
        assert "check: ok: 2,550 cells, no violations" in out
        assert "explain('east-1-4', 'FY2027-M07', 'revenue'):" in out
        assert "acme FY2027 1,600 customer = the target" in out

    def test_demo_shows_over_assignment(self, capsys: pytest.CaptureFixture[str]) -> None:
        """#12: each over-assigned team is marked and a note says its people sum to 105 % of it;
        the screen's own numbers bear it out (people's year = round(team's year x 1.05))."""
        assert main(["demo"]) == 0
        lines = capsys.readouterr().out.splitlines()
        start = lines.index("FY2027 revenue targets:")
        end = lines.index("", start)
        table = lines[start + 3 : end]
        note = (
            "[+5 %] children sum to 105 % of their team: over-assignment declared on level 'team'"
        )
        assert table[-1] == note
        rows = [(len(r) - len(r.lstrip()), r.split()) for r in table[:-1]]
        teams = [i for i, (_, words) in enumerate(rows) if words[1] == "[+5"]
        assert len(teams) == 10
        for i in teams:
            depth, words = rows[i]
            team_year = Decimal(words[3].replace(",", ""))
            people = []
            for d, person in rows[i + 1 :]:
                if d <= depth:
                    break
                people.append(Decimal(person[1].replace(",", "")))
            assert sum(people) == (team_year * Decimal("1.05")).quantize(Decimal("0.01"))

    def test_check_ok_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A coherent plan file checks ok with exit status 0."""
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(small_plan().to_dict()))
        assert main(["check", str(path)]) == 0
        assert "ok: 34 cells, no violations" in capsys.readouterr().out

    def test_check_broken_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A hand-edited plan that breaks a sum exits 1 and names the cell."""
        broken = small_plan().with_values(
            [{"node": "east", "period": "FY2027-M03", "metric": "deals", "value": 2}]
        )
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(broken.to_dict()))
        assert main(["check", str(path)]) == 1
        assert "'acme' children sum to 2 deal but the parent is 1 deal" in capsys.readouterr().out

    def test_missing_file(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A missing file exits 2 with the path on stderr."""
        assert main(["check", "/nonexistent/plan.json"]) == 2
        assert "/nonexistent/plan.json" in capsys.readouterr().err

    def test_python_dash_m(self) -> None:
        """`python -m targetcascade demo` works like the console script."""
        result = subprocess.run(
            [sys.executable, "-m", "targetcascade", "demo", "--depth", "0"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("targetcascade demo: Acme Sales, seed 2027, FY2027")


class TestBadInput:
    """#21.7 / #21.8: bad input exits 2 with one line on stderr, never a traceback; 1 stays "violations"."""

    @pytest.mark.parametrize(
        ("content", "names"),
        [
            (b"not json", ("is not a JSON plan file", "line 1, column 1")),
            (b"\xff\xfe{}", ("is not a JSON plan file", "not UTF-8")),
            (b"[" * 100_000, ("is not a JSON plan file", "nests too deeply")),
            (b"[1, 2]", ("a plan must be a JSON object", "list")),
            (b"{}", ("plan schema version None",)),
        ],
    )
    def test_not_a_plan_file(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        content: bytes,
        names: tuple[str, ...],
    ) -> None:
        """A file that is not a plan's JSON exits 2, naming the file and what is wrong."""
        path = tmp_path / "plan.json"
        path.write_bytes(content)
        assert main(["check", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.startswith("targetcascade: ")
        assert "Traceback" not in captured.err
        for name in names:
            assert name in captured.err

    def test_tampered_cell(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A cell value 1.9 exits 2 naming the file and the cell's path in it."""
        data = small_plan().to_dict()
        data["cells"]["deals"]["values"][1][7] = 1.9
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(data))
        assert main(["check", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"{path}: cells.deals.values[1][7] (node 'east', FY2027-M03) is 1.9" in err

    def test_many_level_ranks(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """#21.6: a plan file declaring 20,000 level ranks exits 2 at once, naming the limit."""
        data = small_plan().to_dict()
        data["tree"]["levels"]["ranks"] = [[f"l{i}"] for i in range(20_000)]
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(data))
        assert main(["check", str(path)]) == 2
        err = capsys.readouterr().err
        assert (
            f"{path}: tree: a level order may declare at most 1,000 ranks (MAX_LEVEL_RANKS)" in err
        )

    def test_demo_negative_seed(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`demo --seed -1` exits 2 with the reason, not numpy's traceback."""
        assert main(["demo", "--seed", "-1"]) == 2
        err = capsys.readouterr().err
        assert err == (
            "targetcascade: seed -1 is not an integer >= 0; give seed as a whole number 0 or "
            "above, e.g. seed=2027\n"
        )

    @pytest.mark.parametrize(
        "argv",
        [
            ["demo", "--seed", "x"],
            ["demo", "--depth", "-1"],
            ["check"],
            ["bogus"],
            [],
            ["check", "a", "--limit", "y"],
            ["check", "a", "--limit", "-1"],
        ],
    )
    def test_bad_arguments(self, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
        """Malformed arguments exit 2 with argparse's usage message on stderr."""
        with pytest.raises(SystemExit) as caught:
            main(argv)
        assert caught.value.code == 2
        assert "usage: targetcascade" in capsys.readouterr().err
