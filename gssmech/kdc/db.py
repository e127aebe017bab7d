"""The realm database: principals and their keys, in a file, sealed under a master key.

Layout of a KDC directory ``D``:

- ``D/principal.db`` (mode 0600): JSON ``{"version": 1, "realm": R, "principals": {name:
  record}}``.  Each key is stored as ``encrypt(master, MASTER_KEY_USAGE, name NUL key)``
  (RFC 3961 §3 encrypt with integrity), so a record moved to another principal fails to
  decrypt and the file alone reveals no key.
- ``D/master.stash`` (mode 0600, separate so it can live elsewhere or be backed up apart):
  the aes256-cts-hmac-sha1-96 master key.

Writes are atomic (temporary file in the same directory, fsync, ``os.replace``).  Keys are
never logged: :class:`~gssmech.krb5.crypto.Key` keeps its octets out of ``repr``.
The codec (:func:`encode_db`, :func:`decode_db`) is sans-I/O; :class:`RealmDB` adds the files.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gssmech.errors import GSSMechError, IntegrityError
from gssmech.kdc.errors import KDCDatabaseError
from gssmech.kdc.policy import DEFAULT_KEY_ENCTYPES
from gssmech.krb5 import crypto
from gssmech.krb5.constants import Enctype
from gssmech.krb5.principal import Principal

#: RFC 3961 key usage for database keys under the master key: outside the ranges RFC 4120
#: §7.5.1 and RFC 4121 assign, so a sealed database key can never pass for protocol data.
MASTER_KEY_USAGE = 1026
DB_FILE = "principal.db"
STASH_FILE = "master.stash"
DB_VERSION = 1


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One long-term key of a principal (RFC 4120 §5.2.9 EncryptionKey plus kvno and salt)."""

    key: crypto.Key
    kvno: int
    #: string-to-key salt (RFC 4120 §4; None for random keys, which have no salt to advertise)
    salt: str | None = None

    @property
    def enctype(self) -> int:
        return self.key.enctype


@dataclass(frozen=True, slots=True)
class PrincipalEntry:
    """A principal and its keys (newest kvno only is kept, as after MIT's ``cpw``)."""

    principal: Principal
    keys: tuple[KeyEntry, ...]
    #: keys derived from a password: AS requires PA-ENC-TIMESTAMP (RFC 4120 §5.2.7.2)
    requires_preauth: bool = False

    def key_for(self, enctype: int, kvno: int | None = None) -> KeyEntry | None:
        for entry in self.keys:
            if entry.enctype == enctype and (kvno is None or entry.kvno == kvno):
                return entry
        return None

    @property
    def enctypes(self) -> tuple[int, ...]:
        return tuple(k.enctype for k in self.keys)

    def strongest(self, preferred: Iterable[int] = DEFAULT_KEY_ENCTYPES) -> KeyEntry:
        """The key to seal tickets with: the first of ``preferred`` it has, else its first."""
        for enctype in preferred:
            found = self.key_for(enctype)
            if found is not None:
                return found
        if not self.keys:
            raise KDCDatabaseError(f"principal {self.principal} has no keys")
        return self.keys[0]


def default_salt(principal: Principal) -> str:
    """The RFC 4120 §4 default salt: realm followed by the name components, no separators."""
    return principal.realm + "".join(principal.components)


def password_keys(
    principal: Principal, password: str, enctypes: Iterable[int], kvno: int = 1
) -> tuple[KeyEntry, ...]:
    salt = default_salt(principal)
    return tuple(
        KeyEntry(crypto.string_to_key(e, password, salt), kvno, salt) for e in enctypes
    )


def random_keys(enctypes: Iterable[int], kvno: int = 1) -> tuple[KeyEntry, ...]:
    return tuple(KeyEntry(crypto.random_key(e), kvno) for e in enctypes)


# --- sans-I/O codec -----------------------------------------------------------------------


def _name(principal: Principal) -> str:
    return principal.unparse()


def encode_db(
    realm: str, entries: Iterable[PrincipalEntry], master: crypto.Key, *,
    confounder: bytes | None = None,
) -> bytes:
    """The database file contents; every key sealed under ``master``."""
    out: dict[str, dict[str, object]] = {}
    for entry in entries:
        name = _name(entry.principal)
        keys = []
        for k in entry.keys:
            sealed = crypto.encrypt(
                master, MASTER_KEY_USAGE, name.encode() + b"\0" + k.key.contents,
                confounder=confounder,
            )
            keys.append({"enctype": k.enctype, "kvno": k.kvno, "salt": k.salt,
                         "sealed": sealed.hex()})
        out[name] = {
            "name_type": entry.principal.name_type,
            "requires_preauth": entry.requires_preauth,
            "keys": keys,
        }
    doc = {"version": DB_VERSION, "realm": realm, "principals": out}
    return (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode()


def decode_db(data: bytes, master: crypto.Key, *, source: str = DB_FILE) -> tuple[str, dict]:
    """``(realm, {name: PrincipalEntry})`` from a database file; KDCDatabaseError if corrupt or
    sealed under another master key."""
    try:
        doc = json.loads(data)
        if doc.get("version") != DB_VERSION:
            raise KDCDatabaseError(f"{source}: unsupported database version {doc.get('version')}")
        realm = str(doc["realm"])
        entries: dict[str, PrincipalEntry] = {}
        for name, rec in doc["principals"].items():
            parsed = Principal.parse(name)
            principal = Principal(int(rec["name_type"]), parsed.components, parsed.realm)
            keys = []
            for k in rec["keys"]:
                plain = crypto.decrypt(master, MASTER_KEY_USAGE, bytes.fromhex(k["sealed"]))
                owner, _, contents = plain.partition(b"\0")
                if owner != name.encode():
                    raise KDCDatabaseError(f"{source}: key record of {name} belongs elsewhere")
                keys.append(KeyEntry(crypto.Key(int(k["enctype"]), contents), int(k["kvno"]),
                                     k.get("salt")))
            entries[name] = PrincipalEntry(principal, tuple(keys), bool(rec["requires_preauth"]))
        return realm, entries
    except IntegrityError:
        raise KDCDatabaseError(f"{source}: wrong master key or tampered database") from None
    except KDCDatabaseError:
        raise
    except (GSSMechError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KDCDatabaseError(f"{source}: corrupt database ({type(exc).__name__})") from None


def encode_stash(master: crypto.Key) -> bytes:
    return (json.dumps({"enctype": master.enctype, "key": master.contents.hex()}) + "\n").encode()


def decode_stash(data: bytes, *, source: str = STASH_FILE) -> crypto.Key:
    try:
        doc = json.loads(data)
        return crypto.Key(int(doc["enctype"]), bytes.fromhex(doc["key"]))
    except (GSSMechError, ValueError, KeyError, TypeError):
        raise KDCDatabaseError(f"{source}: not a master key stash") from None


# --- files ------------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Atomically replace ``path`` with ``data``, mode 0600 from the first byte on."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class RealmDB:
    """The principals of one realm, backed by ``principal.db`` + ``master.stash`` in ``path``
    (or held in memory when ``path`` is None).  :meth:`lookup` re-reads the file when another
    process (``gssmech kdc addprinc``) changed it, so a running KDC sees new principals."""

    def __init__(
        self, realm: str, master: crypto.Key, entries: dict[str, PrincipalEntry] | None = None,
        *, path: Path | None = None,
    ) -> None:
        self.realm = realm
        self._master = master
        self._entries: dict[str, PrincipalEntry] = dict(entries or {})
        self._reindex()
        self.path = Path(path) if path is not None else None
        # a str, not a Path: lookup() stats it on every call and Path joins cost more than stat
        self._db_file = str(self.path / DB_FILE) if self.path is not None else ""
        self._stamp: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"RealmDB({self.realm!r}, {len(self._entries)} principals, path={self.path})"

    # --- files ---------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, realm: str) -> RealmDB:
        """A new, empty database with a fresh master key; refuses to overwrite one."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        if (path / DB_FILE).exists() or (path / STASH_FILE).exists():
            raise KDCDatabaseError(f"a realm database already exists in {path}")
        master = crypto.random_key(Enctype.AES256_CTS_HMAC_SHA1_96)
        write_private(path / STASH_FILE, encode_stash(master))
        db = cls(realm, master, path=path)
        db.save()
        return db

    @classmethod
    def open(cls, path: Path) -> RealmDB:
        path = Path(path)
        try:
            master = decode_stash((path / STASH_FILE).read_bytes())
        except OSError as exc:
            raise KDCDatabaseError(f"cannot read master key stash: {exc.strerror}") from None
        db = cls("", master, path=path)
        db._reload()
        return db

    def _reindex(self) -> None:
        """``(components, realm) -> entry``: what :meth:`lookup` uses.  The unparsed name that
        keys ``_entries`` is a function of these two, so both maps agree, and a lookup need
        not unparse (escape) the name on every request."""
        self._index = {(e.principal.components, e.principal.realm): e
                       for e in self._entries.values()}

    def _file_stamp(self) -> tuple[int, int] | None:
        assert self.path is not None
        try:
            st = os.stat(self._db_file)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_ino

    def _reload(self) -> None:
        assert self.path is not None
        stamp = self._file_stamp()
        try:
            data = (self.path / DB_FILE).read_bytes()
        except OSError as exc:
            raise KDCDatabaseError(f"cannot read realm database: {exc.strerror}") from None
        self.realm, self._entries = decode_db(data, self._master)
        self._reindex()
        self._stamp = stamp

    def _refresh(self) -> None:
        if self.path is not None and self._file_stamp() != self._stamp:
            self._reload()

    def save(self) -> None:
        if self.path is not None:
            data = encode_db(self.realm, self._entries.values(), self._master)
            write_private(self.path / DB_FILE, data)
            self._stamp = self._file_stamp()

    # --- principals ------------------------------------------------------------------------
    def lookup(self, principal: Principal) -> PrincipalEntry | None:
        """The entry for ``principal`` (name type ignored, as MIT's krb5_db_get_principal)."""
        self._refresh()
        return self._index.get((tuple(principal.components), principal.realm))

    def __iter__(self) -> Iterator[PrincipalEntry]:
        self._refresh()
        return iter(sorted(self._entries.values(), key=lambda e: _name(e.principal)))

    def put(self, entry: PrincipalEntry) -> None:
        self._entries[_name(entry.principal)] = entry
        self._reindex()
        self.save()

    def add_principal(
        self, principal: Principal, *, password: str | None = None,
        enctypes: Iterable[int] = DEFAULT_KEY_ENCTYPES, requires_preauth: bool | None = None,
        replace_existing: bool = False,
    ) -> PrincipalEntry:
        """Add ``principal`` with password-derived keys, or random keys when no password."""
        self._refresh()
        if principal.realm != self.realm:
            raise KDCDatabaseError(f"{principal} is not in realm {self.realm}")
        old = self._entries.get(_name(principal))
        if old is not None and not replace_existing:
            raise KDCDatabaseError(f"principal {principal} already exists")
        kvno = 1 if old is None else max((k.kvno for k in old.keys), default=0) + 1
        if password is not None:
            keys = password_keys(principal, password, enctypes, kvno)
        else:
            keys = random_keys(enctypes, kvno)
        preauth = password is not None if requires_preauth is None else requires_preauth
        entry = PrincipalEntry(principal, keys, preauth)
        self.put(entry)
        return entry

    def delete(self, principal: Principal) -> None:
        self._refresh()
        if self._entries.pop(_name(principal), None) is None:
            raise KDCDatabaseError(f"principal {principal} does not exist")
        self._reindex()
        self.save()

    def set_requires_preauth(self, principal: Principal, value: bool) -> None:
        entry = self.lookup(principal)
        if entry is None:
            raise KDCDatabaseError(f"principal {principal} does not exist")
        self.put(replace(entry, requires_preauth=value))


__all__ = [
    "DB_FILE",
    "MASTER_KEY_USAGE",
    "STASH_FILE",
    "KeyEntry",
    "PrincipalEntry",
    "RealmDB",
    "decode_db",
    "decode_stash",
    "default_salt",
    "encode_db",
    "encode_stash",
    "password_keys",
    "random_keys",
    "write_private",
]
