"""The one error hierarchy and its single mapping to GSS status codes."""

import gssmech.errors as E


def test_status_of_known_and_unknown():
    assert E.status_of(E.IntegrityError()) == (E.GSS_S_BAD_SIG, E.Minor.INTEGRITY)
    err = E.CCacheFormatError("bad tag", source="/tmp/cc", offset=12)
    assert E.status_of(err) == (E.GSS_S_DEFECTIVE_CREDENTIAL, E.Minor.CCACHE_FORMAT)
    assert "/tmp/cc at offset 12: bad tag" in str(err)
    # Anything that is not ours is a failure, never success.
    assert E.status_of(ValueError("x")) == (E.GSS_S_FAILURE, E.Minor.PYTHON_EXCEPTION)
    assert E.status_of(KeyboardInterrupt())[0] == E.GSS_S_FAILURE


def test_every_minor_code_has_a_message():
    assert set(E.MINOR_MESSAGES) == set(E.Minor)
    assert all(code >> 8 == E.MINOR_BASE >> 8 for code in E.Minor)


def test_integrity_error_is_opaque():
    assert str(E.IntegrityError()) == E.MINOR_MESSAGES[E.Minor.INTEGRITY]


def test_majors_are_rfc2744_values():
    assert E.GSS_S_DEFECTIVE_TOKEN == 0x00090000
    assert E.GSS_S_FAILURE == 0x000D0000
    assert E.GSS_S_CALL_INACCESSIBLE_READ == 0x01000000


def test_key_material_never_in_repr():
    """Never log secrets: records that hold keys keep them out of repr (and so out of
    log lines and error messages that format the record)."""
    from gssmech.ccache import Credential, KeyBlock, KeytabEntry
    from gssmech.krb5.crypto import Key
    from gssmech.krb5.principal import Principal

    secret = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"  # 32 bytes that repr() shows unescaped
    p = Principal.parse("user@R")
    for obj in (
        KeyBlock(18, secret),
        Credential(p, p, key=KeyBlock(18, secret)),
        KeytabEntry(p, 0, 1, 18, secret),
        Key(18, secret),
    ):
        text = repr(obj)
        assert secret.decode() not in text and secret.hex() not in text, text


def test_every_error_class_is_a_gss_error() -> None:
    """A major with only supplementary bits (e.g. GSS_S_DUPLICATE_TOKEN alone) passes
    GSS_ERROR() as success: the C front would then report success without an output, and a
    caller checking GSS_ERROR would proceed.  Every class we raise must carry a routine or
    calling error."""
    import importlib
    import pkgutil

    import gssmech

    for mod in pkgutil.walk_packages(gssmech.__path__, "gssmech."):
        if not mod.name.startswith("gssmech._plugin.lib") and not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)

    def subclasses(cls: type) -> list[type]:
        return [cls, *(s for c in cls.__subclasses__() for s in subclasses(c))]

    classes = subclasses(E.GSSMechError)
    assert len(classes) > 30  # the walk reached the mechanism, ccache, KDC and ticket modules
    for cls in classes:
        major = cls.MAJOR
        assert major & 0xFFFF0000, f"{cls.__module__}.{cls.__qualname__}: {major:#x}"
