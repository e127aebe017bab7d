"""The plugin in a privileged process (AT_SECURE: setuid, setgid, file capabilities).

Such a process's environment comes from a less privileged caller.  A C host whose interpreter
the plugin starts must not let that caller choose code (PYTHONPATH, PYTHONHOME, PATH) or files
(KRB5_CONFIG, KRB5CCNAME, GSSMECH_*, as MIT's secure_getenv ignores them): the interpreter is
isolated and gssmech reads an empty environment (gssmech/environ.py, cdefs/backend.c).

The host is a setgid binary (group nogroup) run by root, which makes AT_SECURE 1 without
leaving root's files; it loads our front library directly (plugin_peers.DIRECT_HOST_C). The
same binary without the setgid bit is the control: there the planted module runs and the
planted krb5.conf is read, so the inputs are live.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interop.plugin_peers import DIRECT_HOST_C, build_c_host, run_direct_host

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None or os.geteuid() != 0 or sys.platform != "linux",
    reason="needs gcc, Linux and root (to make a setgid binary)",
)

@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    plain = build_c_host(tmp_path_factory.mktemp("secure_host"), DIRECT_HOST_C)
    secure = plain.with_name("host_setgid")
    shutil.copy(plain, secure)
    os.chown(secure, 0, 65534)  # nogroup
    os.chmod(secure, 0o2755)
    return plain, secure


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An attacker's environment: a module Python runs at start, a krb5.conf, a test hook."""
    d = tmp_path_factory.mktemp("planted")
    marker = d / "ran"
    (d / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    conf = d / "krb5.conf"
    conf.write_text(
        "[libdefaults]\n default_realm = EVIL.TEST\n[domain_realm]\n localhost = EVIL.TEST\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KRB5", "GSSMECH_", "PY"))}
    env.update(PYTHONPATH=str(d), KRB5_CONFIG=str(conf), MARKER=str(marker))
    return env


def _run(host: Path, env: dict[str, str], **extra: str) -> dict[str, str]:
    Path(env["MARKER"]).unlink(missing_ok=True)
    out = run_direct_host(host, b"host@localhost", {**env, **extra})
    out["ran"] = str(Path(env["MARKER"]).exists())
    return out


def test_control_the_planted_inputs_work_in_an_ordinary_process(
    hosts: tuple[Path, Path], planted: dict[str, str]
) -> None:
    out = _run(hosts[0], planted)
    assert out["secure"] == "0" and out["ran"] == "True"
    assert out["name"] == "host/localhost@EVIL.TEST"


def test_privileged_process_ignores_the_callers_environment(
    hosts: tuple[Path, Path], planted: dict[str, str]
) -> None:
    out = _run(hosts[1], planted)
    assert out["secure"] == "1"  # the kernel says so: the test is about what it claims
    assert out["ran"] == "False"  # PYTHONPATH did not reach the interpreter
    assert out["import"] == out["display"] == "0"  # and the plugin still works
    assert "EVIL.TEST" not in out["name"]  # nor KRB5_CONFIG our code


def test_privileged_process_ignores_pythonhome_path_and_test_hooks(
    hosts: tuple[Path, Path], planted: dict[str, str], tmp_path: Path
) -> None:
    """A fake prefix (landmark os.py, an interpreter on PATH, a pyvenv.cfg) must not become the
    stdlib; the plugin's own test hook (which can only break it) is an environment variable
    too."""
    fake = tmp_path / "prefix"
    lib = fake / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    lib.mkdir(parents=True)
    (lib / "os.py").write_text(f"open({planted['MARKER']!r}, 'w').write('ran')\n")
    (fake / "bin").mkdir()
    shutil.copy(sys.executable, fake / "bin" / "python3")
    (fake / "pyvenv.cfg").write_text(f"home = {fake / 'bin'}\n")
    out = _run(
        hosts[1], planted, PYTHONHOME=str(fake), PATH=f"{fake / 'bin'}:{os.environ['PATH']}",
        GSSMECH_PLUGIN_TEST_BREAK="import",
    )
    assert out["secure"] == "1" and out["ran"] == "False"
    assert out["import"] == out["display"] == "0"


def test_environ_view_in_secure_mode() -> None:
    """gssmech.environ.ENVIRON after enter_secure_mode: empty, private, os.environ untouched
    (in a subprocess: the switch is one-way)."""
    code = (
        "import os\n"
        "from gssmech.environ import ENVIRON, enter_secure_mode\n"
        "from gssmech.ccache import defaults\n"
        "assert ENVIRON.get('KRB5CCNAME') == 'FILE:/planted'\n"
        "enter_secure_mode()\n"
        "assert ENVIRON.secure and ENVIRON.get('KRB5CCNAME') is None and len(ENVIRON) == 0\n"
        "assert defaults.default_ccache_name() != 'FILE:/planted'\n"
        "ENVIRON['GSSMECH_OID'] = '1.2.3'\n"
        "assert 'GSSMECH_OID' not in os.environ and os.environ['KRB5CCNAME'] == 'FILE:/planted'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "KRB5CCNAME": "FILE:/planted"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.stdout.strip() == "ok", proc.stderr
