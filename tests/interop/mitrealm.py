"""A throw-away MIT Kerberos realm on loopback, with anonymous PKINIT (notes/anonymity.md §5).

Everything lives in one temporary directory: kdc.conf, krb5.conf, the database, a CA and a KDC
certificate made by :mod:`gssmech.krb5.certs`.  ``krb5kdc -n`` runs in the foreground as a child
process on a free loopback port and is stopped by :meth:`MITRealm.stop`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from gssmech.krb5.certs import make_ca, make_kdc_cert

MIT_PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit", "klist", "kvno", "ktutil")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def find_program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    return None


def missing_programs() -> list[str]:
    return [p for p in MIT_PROGRAMS if find_program(p) is None]


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free loopback port")


class MITRealm:
    """A running MIT KDC for ``realm`` with a user, a host service and anonymous PKINIT."""

    def __init__(self, tmpdir: Path, realm: str = "GSSMECH.TEST") -> None:
        self.tmpdir = Path(tmpdir)
        self.realm = realm
        self.port = free_port()
        self.user = f"user@{realm}"
        self.user_password = "user-pass-1"
        self.host_service = "host/localhost"
        self.host_principal = f"host/localhost@{realm}"
        self.keytab = self.tmpdir / "host.keytab"
        self.ccache = self.tmpdir / "ccache"
        self.anchors = self.tmpdir / "ca.pem"
        self._proc: subprocess.Popen[bytes] | None = None
        self._write_config()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KRB5")},
            "KRB5_CONFIG": str(self.tmpdir / "krb5.conf"),
            "KRB5_KDC_PROFILE": str(self.tmpdir / "kdc.conf"),
            "KRB5CCNAME": f"FILE:{self.ccache}",
            "KRB5_KTNAME": f"FILE:{self.keytab}",
            "KRB5RCACHETYPE": "none",
        }

    # --- setup -----------------------------------------------------------------------------
    def _write_config(self) -> None:
        d = self.tmpdir
        ca = make_ca(f"gssmech test CA {self.realm}")
        kdc = make_kdc_cert(ca, self.realm)
        (d / "ca.pem").write_bytes(ca.cert_pem)
        (d / "ca.key").write_bytes(ca.key_pem)
        (d / "kdc.pem").write_bytes(kdc.cert_pem)
        (d / "kdc.key").write_bytes(kdc.key_pem)
        os.chmod(d / "kdc.key", 0o600)
        os.chmod(d / "ca.key", 0o600)
        (d / "kadm5.acl").write_text(f"*/admin@{self.realm} *\n")
        (d / "kdc.conf").write_text(
            f"""[kdcdefaults]
    kdc_listen = 127.0.0.1:{self.port}
    kdc_tcp_listen = 127.0.0.1:{self.port}

[realms]
    {self.realm} = {{
        database_name = {d}/principal
        key_stash_file = {d}/stash
        acl_file = {d}/kadm5.acl
        kdc_listen = 127.0.0.1:{self.port}
        kdc_tcp_listen = 127.0.0.1:{self.port}
        max_life = 10h
        max_renewable_life = 7d
        default_principal_flags = +preauth
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
        pkinit_identity = FILE:{d}/kdc.pem,{d}/kdc.key
        pkinit_anchors = FILE:{d}/ca.pem
    }}

[logging]
    kdc = FILE:{d}/kdc.log
"""
        )
        (d / "krb5.conf").write_text(
            f"""[libdefaults]
    default_realm = {self.realm}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    udp_preference_limit = 1465
    pkinit_anchors = FILE:{d}/ca.pem

[realms]
    {self.realm} = {{
        kdc = 127.0.0.1:{self.port}
        pkinit_anchors = FILE:{d}/ca.pem
    }}

[domain_realm]
    localhost = {self.realm}
"""
        )

    def create(self) -> MITRealm:
        self.run(["kdb5_util", "create", "-s", "-r", self.realm, "-P", "master-pass-1"])
        self.kadmin(f"addprinc -pw {self.user_password} {self.user}")
        self.kadmin("addprinc -randkey WELLKNOWN/ANONYMOUS")
        self.addprinc(self.host_principal)
        self.ktadd(self.host_principal, self.keytab)
        return self

    def start(self) -> MITRealm:
        log = open(self.tmpdir / "krb5kdc.out", "wb")  # closed when the KDC exits
        self._proc = subprocess.Popen(
            [find_program("krb5kdc") or "krb5kdc", "-n", "-r", self.realm],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    "krb5kdc exited: " + (self.tmpdir / "krb5kdc.out").read_text(errors="replace")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("krb5kdc did not start listening")

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    # --- running MIT programs ----------------------------------------------------------------
    def run(
        self,
        args: list[str],
        *,
        env_extra: dict[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
        timeout: float = 60,
    ) -> subprocess.CompletedProcess[str]:
        prog = find_program(args[0]) or args[0]
        env = {**self.env, **(env_extra or {})}
        cp = subprocess.run(
            [prog, *args[1:]], env=env, input=input, capture_output=True, text=True, timeout=timeout
        )
        if check and cp.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} failed ({cp.returncode}):\n{cp.stdout}\n{cp.stderr}"
            )
        return cp

    def kadmin(self, query: str) -> subprocess.CompletedProcess[str]:
        return self.run(["kadmin.local", "-r", self.realm, "-q", query])

    def addprinc(self, name: str, password: str | None = None) -> None:
        if password is None:
            self.kadmin(f"addprinc -randkey {name}")
        else:
            self.kadmin(f"addprinc -pw {password} {name}")

    def ktadd(
        self, principal: str, keytab: str | os.PathLike[str], *, randkey: bool = True
    ) -> None:
        """kadmin's ktadd gives the principal new random keys unless ``randkey=False``: keep
        the keys of a principal other tests hold tickets or keytabs for."""
        self.kadmin(f"ktadd{'' if randkey else ' -norandkey'} -k {keytab} {principal}")

    def kinit(
        self,
        principal: str,
        *,
        password: str | None = None,
        flags: list[str] | tuple[str, ...] = (),
        ccache: str | os.PathLike[str] | None = None,
        env_extra: dict[str, str] | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        cc = str(ccache or self.ccache)
        if principal == self.user and password is None and "-k" not in flags and "-n" not in flags:
            password = self.user_password
        return self.run(
            ["kinit", *flags, "-c", cc, principal],
            input=(password + "\n") if password is not None else None,
            env_extra=env_extra,
            check=check,
        )
