"""The realm database: 0600 files, keys sealed under a separate master key, atomic writes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from gssmech.errors import ConfigError
from gssmech.kdc.db import DB_FILE, STASH_FILE, RealmDB, default_salt, encode_stash
from gssmech.kdc.errors import KDCDatabaseError
from gssmech.kdc.policy import KDCSettings
from gssmech.krb5 import crypto
from gssmech.krb5.principal import Principal

REALM = "DB.TEST"
USER = Principal.parse(f"user@{REALM}")


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_create_open_roundtrip_and_modes(tmp_path: Path) -> None:
    db = RealmDB.create(tmp_path, REALM)
    entry = db.add_principal(USER, password="pw-1")
    assert entry.requires_preauth
    assert entry.key_for(18).key == crypto.string_to_key(18, "pw-1", REALM + "user")
    assert default_salt(USER) == "DB.TESTuser"
    assert _mode(tmp_path / DB_FILE) == 0o600 and _mode(tmp_path / STASH_FILE) == 0o600
    again = RealmDB.open(tmp_path)
    assert again.realm == REALM
    assert again.lookup(USER) == entry
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_keys_are_sealed_not_stored(tmp_path: Path) -> None:
    db = RealmDB.create(tmp_path, REALM)
    entry = db.add_principal(USER)
    raw = (tmp_path / DB_FILE).read_bytes()
    for k in entry.keys:
        assert k.key.contents.hex().encode() not in raw
        assert k.key.contents not in raw
        assert k.key.contents.hex() not in repr(entry)  # keys stay out of logs/tracebacks


def test_wrong_master_key_and_tampering(tmp_path: Path) -> None:
    db = RealmDB.create(tmp_path, REALM)
    db.add_principal(USER)
    good_stash = (tmp_path / STASH_FILE).read_bytes()
    (tmp_path / STASH_FILE).write_bytes(encode_stash(crypto.random_key(18)))
    with pytest.raises(KDCDatabaseError, match="master key"):
        RealmDB.open(tmp_path)
    (tmp_path / STASH_FILE).write_bytes(good_stash)
    doc = json.loads((tmp_path / DB_FILE).read_text())
    sealed = doc["principals"][str(USER)]["keys"][0]["sealed"]
    doc["principals"][str(USER)]["keys"][0]["sealed"] = sealed[:-2] + (
        "00" if sealed[-2:] != "00" else "11")
    (tmp_path / DB_FILE).write_text(json.dumps(doc))
    with pytest.raises(KDCDatabaseError):
        RealmDB.open(tmp_path)


def test_key_record_moved_to_another_principal_is_refused(tmp_path: Path) -> None:
    db = RealmDB.create(tmp_path, REALM)
    db.add_principal(USER)
    other = Principal.parse(f"other@{REALM}")
    db.add_principal(other)
    doc = json.loads((tmp_path / DB_FILE).read_text())
    doc["principals"][str(other)]["keys"] = doc["principals"][str(USER)]["keys"]
    (tmp_path / DB_FILE).write_text(json.dumps(doc))
    with pytest.raises(KDCDatabaseError, match="belongs elsewhere"):
        RealmDB.open(tmp_path)


@pytest.mark.parametrize("garbage", [b"", b"{", b"[]", b'{"version": 1}', b"\xff\xfe"])
def test_corrupt_files_are_typed_errors(tmp_path: Path, garbage: bytes) -> None:
    RealmDB.create(tmp_path, REALM)
    (tmp_path / DB_FILE).write_bytes(garbage)
    with pytest.raises(KDCDatabaseError):
        RealmDB.open(tmp_path)
    (tmp_path / STASH_FILE).write_bytes(garbage)
    with pytest.raises(KDCDatabaseError):
        RealmDB.open(tmp_path)


def test_running_kdc_sees_changes_from_another_process(tmp_path: Path) -> None:
    served = RealmDB.create(tmp_path, REALM)
    assert served.lookup(USER) is None
    RealmDB.open(tmp_path).add_principal(USER, password="x")
    assert served.lookup(USER) is not None
    RealmDB.open(tmp_path).delete(USER)
    assert served.lookup(USER) is None


def test_duplicates_and_foreign_realm(tmp_path: Path) -> None:
    db = RealmDB.create(tmp_path, REALM)
    db.add_principal(USER)
    with pytest.raises(KDCDatabaseError):
        db.add_principal(USER)
    with pytest.raises(KDCDatabaseError):
        db.add_principal(Principal.parse("user@ELSEWHERE"))
    with pytest.raises(KDCDatabaseError):
        db.delete(Principal.parse(f"ghost@{REALM}"))
    with pytest.raises(KDCDatabaseError):
        RealmDB.create(tmp_path, REALM)
    renewed = db.add_principal(USER, password="new", replace_existing=True)
    assert {k.kvno for k in renewed.keys} == {2}


def test_settings_json_roundtrip_and_errors() -> None:
    s = KDCSettings(realm=REALM, profile="draft-08", require_anonymous=("poll@X",),
                    anonymous_authdata={555: "remove"}, referrals={"a.test": "A.TEST"})
    assert KDCSettings.from_json(s.to_json()) == s
    for bad in ('{"realm": "R", "profile": "nope"}', '{"realm": "R", "bogus": 1}', "[]", "{",
                '{"realm": "R", "anonymous_authdata": {"5": "maybe"}}',
                '{"realm": "R", "max_life": "x"}'):
        with pytest.raises(ConfigError):
            KDCSettings.from_json(bad)
