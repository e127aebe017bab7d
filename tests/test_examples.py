"""examples/stateless_http end to end: the embedded KDC (anonymous PKINIT), two server processes
sharing a ticket key directory, and the client, all on loopback (DESIGN.md "How the parts meet",
issue 6 "examples/")."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from gssmech.errors import GSS_S_DEFECTIVE_TOKEN, GSS_S_NO_CONTEXT, Minor
from gssmech.gss.api import Name, NameType, RequirementFlag, SecurityContext
from gssmech.gss.context import APRejected
from gssmech.gss.names import RealmConfig
from gssmech.krb5 import config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "stateless_http"
ANON = "WELLKNOWN/ANONYMOUS@WELLKNOWN:ANONYMOUS"


def _load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stateless_http_demo", EXAMPLE / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=[True, False], ids=["shared-keys", "own-keys"])
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with _load_demo().Demo(tmp_path, shared_keys=request.param) as running:
        yield running


def test_anonymous_context_resumes_on_the_other_server(demo: Any) -> None:
    login, *messages = demo.client("first", "second", "third", to=(1, 0, 1))
    assert login["step"] == "login" and login["server"] == "server-1"
    assert login["anonymous"] is True and login["peer"] == ANON
    if not demo.shared_keys:
        # server-2 holds other keys: it cannot open server-1's ticket and says why
        first = messages[0]
        assert first["status"] == 401
        assert (first["major"], first["minor"]) == (GSS_S_NO_CONTEXT, Minor.TICKET_UNKNOWN_KEY)
        # ... while server-1 still resumes its own (the gap in sequence numbers is reported
        # to the server as GAP_TOKEN, not refused)
        assert messages[1]["reply"].startswith("server-1 ")
        return
    pids = {}
    for msg, (text, server) in zip(messages, [("first", "server-2"), ("second", "server-1"),
                                              ("third", "server-2")], strict=True):
        assert msg["status"] == 200 and msg["renewed"] is False
        m = re.fullmatch(r"(server-\d) \(pid (\d+)\) read: (.*)", msg["reply"])
        assert m is not None, msg
        label, pid, read = m.groups()
        assert (label, read) == (server, text)
        pids.setdefault(label, pid)
        assert pids[label] == pid
    assert len(set(pids.values())) == 2  # two processes, no state shared but the key directory


def test_bad_ticket_is_refused(demo: Any) -> None:
    request = urllib.request.Request(
        demo.urls[1] + "/message", data=b"x", method="POST",
        headers={"X-GSS-Context": "R1NYMQ=="},  # "GSX1": our magic, nothing after it
    )
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(request, timeout=10)
    body = json.loads(exc.value.read())
    exc.value.close()
    assert exc.value.code == 401
    assert (body["major"], body["minor"]) == (GSS_S_DEFECTIVE_TOKEN, Minor.TICKET_INVALID)


def test_a_replayed_login_gets_the_krb_error_token_back(demo: Any) -> None:
    """A login whose AP-REQ was already accepted is refused (replay) with the KRB-ERROR token
    in the 401's WWW-Authenticate (RFC 4559 §5); the waiting initiator reads it as
    KRB_AP_ERR_REPEAT (RFC 4121 §4.1)."""
    env = demo.env()
    realms = RealmConfig.from_profile(config.load_default(env))
    target = Name("host@localhost", NameType.hostbased_service, config=realms)
    flags = RequirementFlag.mutual_authentication | RequirementFlag.anonymity
    ctx = SecurityContext(name=target, flags=flags, usage="initiate", env=env)
    token = ctx.step()
    assert token is not None
    auth = {"Authorization": "Negotiate " + base64.b64encode(token).decode()}
    replies = []
    for _ in range(2):
        request = urllib.request.Request(demo.urls[0] + "/login", data=b"", method="POST",
                                         headers=auth)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                replies.append((response.status, dict(response.headers)))
        except urllib.error.HTTPError as err:
            replies.append((err.code, dict(err.headers)))
            err.close()
    assert [status for status, _ in replies] == [200, 401]
    scheme, _, data = replies[1][1]["WWW-Authenticate"].partition(" ")
    assert scheme == "Negotiate"
    with pytest.raises(APRejected) as exc:
        ctx.step(base64.b64decode(data))
    assert "KRB_AP_ERR_REPEAT (34)" in str(exc.value)
