"""``gssmech mech config|install|check`` (gssmech._plugin.cli); never touches /etc."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gssmech._plugin import cli, library_path
from gssmech.errors import ConfigError
from gssmech.gss.oids import DEFAULT_NATIVE_MECH


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_config_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["mech", "config"]) == 0
    name, oid, path = capsys.readouterr().out.split()
    assert (name, oid) == ("gssmech", DEFAULT_NATIVE_MECH.dotted)
    assert Path(path).is_absolute() and Path(path) == library_path()


def test_config_line_other_oid(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["mech", "config", "--oid", "1.3.6.1.4.1.99999.7"]) == 0
    assert capsys.readouterr().out.split()[1] == "1.3.6.1.4.1.99999.7"


def test_install_refuses_to_clobber(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "mech.d" / "gssmech.conf"
    assert run(["mech", "install", "--path", str(target)]) == 0
    first = target.read_text()
    assert first.split()[2] == str(library_path())
    assert run(["mech", "install", "--path", str(target)]) == 0  # same contents: fine
    target.write_text("someone else's line\n")
    with pytest.raises(ConfigError):
        run(["mech", "install", "--path", str(target)])
    assert target.read_text() == "someone else's line\n"
    assert run(["mech", "install", "--path", str(target), "--force"]) == 0
    assert target.read_text() == first


def _check(conf: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GSSMECH_")}
    env["GSS_MECH_CONFIG"] = str(conf)
    code = "import sys; from tests.test_plugin_cli import run; sys.exit(run(['mech', 'check']))"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )


def test_check_through_libgssapi(tmp_path: Path) -> None:
    conf = tmp_path / "mech.conf"
    assert run(["mech", "install", "--path", str(conf)]) == 0
    proc = _check(conf)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "indicated: yes" in proc.stdout
    assert "AUTH_INIT_ANON" in proc.stdout and "NOT_DFLT_MECH" in proc.stdout
    assert "sasl name: GS2-GSSMECH" in proc.stdout


def test_check_reports_missing_plugin(tmp_path: Path) -> None:
    conf = tmp_path / "empty.conf"
    conf.write_text("")
    proc = _check(conf)
    assert proc.returncode == 1
    assert "indicated: no" in proc.stdout
