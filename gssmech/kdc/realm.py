"""A KDC directory on disk: create it (``kdc init``) and open it into a :class:`KDC`.

``D/kdc.json`` settings (:class:`KDCSettings`), ``D/principal.db`` + ``D/master.stash`` (the
realm database, 0600), ``D/ca.pem`` + ``D/ca-key.pem`` (the realm's CA), ``D/kdc.pem`` +
``D/kdc-key.pem`` (the KDC's PKINIT certificate: EKU id-pkinit-KPKdc, id-pkinit-san
krbtgt/R@R, RFC 4556 §3.2.2), and ``D/krb5.conf`` for clients of the realm.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gssmech.errors import ConfigError
from gssmech.kdc.context import PkinitIdentity
from gssmech.kdc.db import RealmDB, write_private
from gssmech.kdc.errors import KDCDatabaseError
from gssmech.kdc.handler import KDC
from gssmech.kdc.policy import KDCSettings
from gssmech.kdc.server import parse_listen
from gssmech.krb5.certs import make_ca, make_kdc_cert
from gssmech.krb5.principal import Principal

SETTINGS_FILE = "kdc.json"


def client_krb5_conf(settings: KDCSettings, directory: Path) -> str:
    """A krb5.conf for clients of the realm (MIT syntax; kdc = the first listen address)."""
    host, port = parse_listen(settings.listen[0])
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    anchors = f"FILE:{Path(directory).resolve() / 'ca.pem'}"
    r = settings.realm
    return f"""[libdefaults]
    default_realm = {r}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    rdns = false
    dns_canonicalize_hostname = false
    pkinit_anchors = {anchors}

[realms]
    {r} = {{
        kdc = {host}:{port}
        pkinit_anchors = {anchors}
    }}

[domain_realm]
    localhost = {r}
"""


def init_realm(directory: Path, realm: str, *, listen: tuple[str, ...] = ("127.0.0.1:88",),
               profile: str = "rfc8062") -> RealmDB:
    """Create a realm: database + master key, krbtgt/R@R, WELLKNOWN/ANONYMOUS@R, a CA and a
    KDC certificate, kdc.json and a client krb5.conf."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    settings = KDCSettings(realm=realm, listen=tuple(listen), profile=profile)
    for item in listen:
        parse_listen(item)
    db = RealmDB.create(directory, realm)
    db.add_principal(Principal.krbtgt(realm))
    # seed §4.1 / MIT: the anonymous principal must exist for anonymous tickets to be issued
    db.add_principal(Principal.anonymous(realm))
    ca = make_ca(f"gssmech KDC CA {realm}")
    kdc = make_kdc_cert(ca, realm)
    (directory / "ca.pem").write_bytes(ca.cert_pem)
    write_private(directory / "ca-key.pem", ca.key_pem)
    (directory / "kdc.pem").write_bytes(kdc.cert_pem)
    write_private(directory / "kdc-key.pem", kdc.key_pem)
    (directory / SETTINGS_FILE).write_text(settings.to_json())
    (directory / "krb5.conf").write_text(client_krb5_conf(settings, directory))
    return db


def load_settings(directory: Path) -> KDCSettings:
    path = Path(directory) / SETTINGS_FILE
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(path)) from None
    return KDCSettings.from_json(text, source=str(path))


def save_settings(directory: Path, settings: KDCSettings) -> None:
    (Path(directory) / SETTINGS_FILE).write_text(settings.to_json())


def load_identity(directory: Path) -> PkinitIdentity | None:
    """The KDC certificate and key, or None when the directory has none (PKINIT disabled)."""
    directory = Path(directory)
    cert_path, key_path = directory / "kdc.pem", directory / "kdc-key.pem"
    if not cert_path.exists() or not key_path.exists():
        return None
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KDCDatabaseError(f"cannot load the KDC certificate or key: {exc}") from None
    return PkinitIdentity(cert.public_bytes(serialization.Encoding.DER), key)


def open_kdc(directory: Path, **kwargs: object) -> KDC:
    """A :class:`KDC` for the realm in ``directory`` (keyword arguments go to KDC())."""
    settings = load_settings(directory)
    db = RealmDB.open(directory)
    if db.realm != settings.realm:
        raise KDCDatabaseError(f"database realm {db.realm} != settings realm {settings.realm}")
    return KDC(db, settings, pkinit=load_identity(directory), **kwargs)  # type: ignore[arg-type]


def directory_mode_ok(directory: Path) -> bool:
    """Whether the secrets of a KDC directory have owner-only permissions."""
    names = ("principal.db", "master.stash", "ca-key.pem", "kdc-key.pem")
    return all(os.stat(Path(directory) / n).st_mode & 0o077 == 0 for n in names)


__all__ = ["SETTINGS_FILE", "client_krb5_conf", "directory_mode_ok", "init_realm",
           "load_identity", "load_settings", "open_kdc", "save_settings"]
