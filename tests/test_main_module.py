"""``python -m targetcascade`` is the command line."""

from __future__ import annotations

import runpy
import sys

import pytest


def run_as_main(monkeypatch, *argv: str) -> int:
    """Run the package as ``python -m targetcascade ARGV`` in this process; return the exit code."""
    monkeypatch.setattr(sys, "argv", ["targetcascade", *argv])
    monkeypatch.delitem(sys.modules, "targetcascade.__main__", raising=False)
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("targetcascade", run_name="__main__", alter_sys=True)
    return int(exited.value.code or 0)


def test_help_lists_the_commands(monkeypatch, capsys):
    """``python -m targetcascade --help`` prints the usage with its commands and exits 0."""
    assert run_as_main(monkeypatch, "--help") == 0
    out = capsys.readouterr().out
    assert out.startswith("usage:")
    for command in ("demo", "check"):
        assert command in out


def test_unknown_command_exits_2(monkeypatch, capsys):
    """A command that does not exist is a usage error: exit 2 and a message on stderr."""
    assert run_as_main(monkeypatch, "bogus-command") == 2
    assert "bogus-command" in capsys.readouterr().err


def test_importing_the_module_runs_nothing(monkeypatch, capsys):
    """Importing ``targetcascade.__main__`` (as tools do) does not start the command line."""
    monkeypatch.delitem(sys.modules, "targetcascade.__main__", raising=False)
    __import__("targetcascade.__main__")
    assert capsys.readouterr().out == ""
