"""What starting Python inside a C host must leave alone: the host's locale.

CPython sets LC_CTYPE from LANG/LC_* while it starts; a C program that never called setlocale
runs in the "C" locale and would find itself in another one after its first GSS call into the
plugin (mbstowcs, isalpha and friends change meaning under it).  The plugin puts the host's
LC_CTYPE back (cdefs/backend.c); UTF-8 names still round-trip, since Python fixed its encodings
as it started.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.interop.plugin_peers import DIRECT_HOST_C, build_c_host, run_direct_host

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_c_host(tmp_path_factory.mktemp("embedding_host"), DIRECT_HOST_C)


def test_the_hosts_locale_is_left_alone(host: Path, tmp_path: Path) -> None:
    conf = tmp_path / "krb5.conf"
    conf.write_text("[libdefaults]\n default_realm = EMBED.TEST\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "KRB5", "GSSMECH_"))}
    env.update(LANG="C.UTF-8", KRB5_CONFIG=str(conf))
    out = run_direct_host(host, "h\u00f4st@localhost".encode(), env)
    assert out["before"] == out["after"] == "C"
    assert out["import"] == out["display"] == "0"
    assert out["name"] == "h\u00f4st/localhost@"
