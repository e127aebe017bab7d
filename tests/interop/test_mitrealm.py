"""The MIT fixture itself works: password and anonymous PKINIT kinit, kvno, klist -f shows 'a'."""

import pytest

pytestmark = pytest.mark.interop


def test_password_and_anonymous_kinit(mit_realm, tmp_path):
    cc = tmp_path / "cc.pw"
    mit_realm.kinit(mit_realm.user, ccache=cc)
    out = mit_realm.run(["klist", "-c", str(cc)]).stdout
    assert f"Default principal: {mit_realm.user}" in out
    anon = tmp_path / "cc.anon"
    mit_realm.kinit("@" + mit_realm.realm, flags=["-n"], ccache=anon)
    out = mit_realm.run(["klist", "-f", "-c", str(anon)]).stdout
    assert "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS" in out
    flags_line = next(line for line in out.splitlines() if "Flags:" in line)
    assert "a" in flags_line.split("Flags:")[1]
    mit_realm.run(["kvno", "-c", str(anon), mit_realm.host_principal])
