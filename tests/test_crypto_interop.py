"""string_to_key against MIT krb5: keys that MIT's ``ktutil addent -password`` writes.

MIT derives the key with the default salt (realm followed by the name components), so a
keytab entry for user@EXAMPLE.TEST uses salt "EXAMPLE.TESTuser" and the enctype's default
iteration count.  The keytab is parsed here with a throwaway reader of the 0x0502 format
(notes/tickets-and-ccache.md §3.3); the real keytab module lives elsewhere.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from gssmech.krb5 import crypto
from gssmech.krb5.constants import ENCTYPE_NAMES

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(shutil.which("ktutil") is None, reason="MIT ktutil is not installed"),
]

PASSWORD = "Corr3ct horse, bättery staple!"  # non-ASCII: MIT hashes the UTF-8 octets


def _keytab_keys(blob: bytes) -> list[tuple[str, int, bytes]]:
    """(principal, enctype, key) for each entry of a 0x0502 keytab."""
    assert blob[:2] == b"\x05\x02"
    pos, out = 2, []
    while pos + 4 <= len(blob):
        (size,) = struct.unpack_from(">i", blob, pos)
        pos += 4
        if size == 0:
            break
        if size < 0:  # a hole left by a removed entry
            pos += -size
            continue
        entry, pos = blob[pos : pos + size], pos + size
        (count,) = struct.unpack_from(">H", entry, 0)
        off, parts = 2, []
        for _ in range(count + 1):  # realm, then the components
            (n,) = struct.unpack_from(">H", entry, off)
            parts.append(entry[off + 2 : off + 2 + n].decode())
            off += 2 + n
        off += 4 + 4 + 1  # name type, timestamp, 8-bit kvno
        enctype, keylen = struct.unpack_from(">HH", entry, off)
        key = entry[off + 4 : off + 4 + keylen]
        out.append(("/".join(parts[1:]) + "@" + parts[0], enctype, key))
    return out


@pytest.mark.parametrize("enctype", [17, 18, 19, 20])
def test_string_to_key_matches_mit_ktutil(enctype: int, tmp_path: Path) -> None:
    keytab = tmp_path / "user.keytab"
    script = (
        f"addent -password -p user@EXAMPLE.TEST -k 1 -e {ENCTYPE_NAMES[enctype]}\n"
        f"{PASSWORD}\n"
        f"wkt {keytab}\n"
        "quit\n"
    )
    # An empty krb5.conf keeps the host's configuration out of the way.
    conf = tmp_path / "krb5.conf"
    conf.write_text("")
    env = {**os.environ, "KRB5_CONFIG": str(conf)}
    subprocess.run(
        ["ktutil"], input=script.encode(), env=env, check=True, capture_output=True, timeout=30
    )
    entries = _keytab_keys(keytab.read_bytes())
    assert [(p, e) for p, e, _ in entries] == [("user@EXAMPLE.TEST", enctype)]
    ours = crypto.string_to_key(enctype, PASSWORD, "EXAMPLE.TESTuser")
    assert ours.contents == entries[0][2]
