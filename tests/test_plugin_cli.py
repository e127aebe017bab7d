"""``gssmech mech config|install|check`` (gssmech._plugin.cli); never touches /etc."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gssmech._plugin import cli, library_path, trust
from gssmech.errors import ConfigError
from gssmech.gss.oids import DEFAULT_NATIVE_MECH


@pytest.fixture
def trusted_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests about other things: whether this checkout passes the ownership and mode
    checks depends on the machine (umask), which test_install_refuses_untrusted_code covers."""
    monkeypatch.setattr(trust, "code_locations", lambda: [])


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


@pytest.mark.usefixtures("trusted_install")
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


@pytest.mark.usefixtures("trusted_install")
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


def test_install_refuses_untrusted_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A registration makes root daemons and setuid programs run the plugin's code: a file
    there that others can write is refused, and nothing is written."""
    code = tmp_path / "site"
    code.mkdir(mode=0o755)
    (code / "module.py").write_text("x = 1\n")
    os.chmod(code / "module.py", 0o666)
    monkeypatch.setattr(trust, "code_locations", lambda: [code])
    target = tmp_path / "mech.d" / "gssmech.conf"
    with pytest.raises(ConfigError) as exc:
        run(["mech", "install", "--path", str(target)])
    assert f"{code / 'module.py'}: writable by others" in str(exc.value)
    assert not target.exists()
    assert run(["mech", "install", "--path", str(target), "--allow-unsafe"]) == 0
    assert target.exists()


def test_code_locations_are_what_the_plugin_loads() -> None:
    places = trust.code_locations()
    package = Path(cli.__file__).resolve().parents[1]
    assert places[:4] == [library_path(), library_path().with_name("libgssmech_python.so"),
                          package, trust.Shallow(package.parent)]
    places = [p for p in places if isinstance(p, Path)]
    assert all(p.exists() for p in places)
    assert any((p / "os.py").exists() for p in places)  # the stdlib
    assert any(p.name.startswith("libpython") for p in places)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The modes below are the ones a umask of 022 gives; a user-private-group login (Debian's
    default for non-root users) has 002, which makes every new directory group-writable."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.usefixtures("umask_022")
def test_untrusted_rules(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    me = {0, os.geteuid()}  # root owns the ancestors (/, /tmp)
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "ok.py").write_text("")
    assert trust.untrusted([tree], me) == []
    # group-writable directory and a link to a world-writable file elsewhere
    os.chmod(tree / "pkg", 0o775)
    outside = tmp_path / "outside.py"
    outside.write_text("")
    os.chmod(outside, 0o646)
    (tree / "pkg" / "link.py").symlink_to(outside)
    (tree / "pkg" / "dangling.py").symlink_to(tmp_path / "missing")
    assert sorted(trust.untrusted([tree], me)) == sorted([
        f"{tree / 'pkg'}: writable by its group",
        f"{tree / 'pkg' / 'link.py'}: writable by others",
    ])
    # a sticky world-writable ancestor (/tmp) is fine; the same mode inside the tree is not
    sticky = tmp_path / "sticky"
    (sticky / "inner").mkdir(parents=True)
    os.chmod(sticky, 0o1777)
    assert trust.untrusted([sticky / "inner"], me) == []
    assert trust.untrusted([sticky], me) == [f"{sticky}: writable by others"]
    # the directory put first on sys.path: its entries, not what lies below them
    os.chmod(tree / "pkg", 0o755)
    (tree / "pkg" / "link.py").unlink()
    deep = tree / "pkg" / "deep"
    deep.mkdir()
    (deep / "w.py").write_text("")
    os.chmod(deep / "w.py", 0o666)
    (tree / "top.py").write_text("")
    assert trust.untrusted([trust.Shallow(tree)], me) == []
    os.chmod(tree / "top.py", 0o666)
    assert trust.untrusted([trust.Shallow(tree)], me) == [f"{tree / 'top.py'}: writable by others"]
    # an owner outside the trusted set
    stranger = {max(me) + 1}
    assert f"{tree / 'pkg' / 'ok.py'}: owned by uid {os.geteuid()}" in trust.untrusted(
        [tree / "pkg" / "ok.py"], stranger
    )
