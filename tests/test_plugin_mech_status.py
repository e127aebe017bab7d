"""gss_display_status for a minor code (RFC 2744 §5.11): the message of this thread's last
failure with that code (it names the cache, keytab or service), else the code's fixed text."""

from __future__ import annotations

import threading

from gssmech._plugin import mech
from gssmech.errors import MINOR_MESSAGES, Minor

GSS_C_MECH_CODE = 2


def _minor_text(code: int) -> str:
    return mech.display_status(code, GSS_C_MECH_CODE)


def test_last_failure_message_for_its_code() -> None:
    mech.remember_error(Minor.KEYTAB_NOT_FOUND, "keytab FILE:/x not found")
    assert _minor_text(Minor.KEYTAB_NOT_FOUND) == "gssmech: keytab FILE:/x not found"
    # another code: the fixed text, not a stale message
    assert _minor_text(Minor.CCACHE_NOT_FOUND) == MINOR_MESSAGES[Minor.CCACHE_NOT_FOUND]
    # a message that already carries the prefix is not prefixed twice
    mech.remember_error(Minor.DECODE, MINOR_MESSAGES[Minor.DECODE])
    assert _minor_text(Minor.DECODE) == MINOR_MESSAGES[Minor.DECODE]
    # the major-status words never come from the saved message
    assert mech.display_status(0x70000, 1).startswith("No credentials were supplied")


def test_messages_are_per_thread() -> None:
    mech.remember_error(Minor.KDC_ERROR, "mine")
    seen: list[str] = []

    def other() -> None:
        seen.append(_minor_text(Minor.KDC_ERROR))
        mech.remember_error(Minor.KDC_ERROR, "theirs")

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [MINOR_MESSAGES[Minor.KDC_ERROR]]
    assert _minor_text(Minor.KDC_ERROR) == "gssmech: mine"
