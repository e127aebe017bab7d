"""Password AS and TGS replayed against MIT's captured messages, clock-skew retry, KDC errors
and hostile replies (client.as_exchange, client.tgs_exchange)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gssmech.errors import GSSMechError
from gssmech.krb5.asn1 import ASReq, KRBError, TGSReq, decode
from gssmech.krb5.client.as_exchange import ASExchange
from gssmech.krb5.client.results import KDCReply, KDCReplyError, ReplyError
from gssmech.krb5.client.tgs_exchange import TGT, TGSExchange
from gssmech.krb5.principal import Principal

DATA = Path(__file__).parent / "data" / "mit"
CAPTURE = json.loads((DATA / "capture.json").read_text())
REALM = CAPTURE["realm"]


def _nonce(name: str, cls: type = ASReq) -> int:
    return int(decode(cls, (DATA / name).read_bytes())["req_body"]["nonce"].native)


def _golden_as() -> tuple[ASExchange, KDCReply]:
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password=CAPTURE["user_password"],
                    nonce=_nonce("pw_as_req_2.der"))
    now = decode(KRBError, (DATA / "pw_krb_error_1.der").read_bytes())["stime"].native.timestamp()
    ex.start(now)
    second = ex.handle((DATA / "pw_krb_error_1.der").read_bytes(), now)
    assert isinstance(second, bytes)
    result = ex.handle((DATA / "pw_as_rep_1.der").read_bytes(), now)
    assert isinstance(result, KDCReply)
    return ex, result


def test_password_as_replay_of_mit_exchange() -> None:
    """ETYPE-INFO2 salt from MIT's PREAUTH_REQUIRED, string-to-key, usage-3 decryption."""
    _ex, result = _golden_as()
    assert result.client.unparse() == CAPTURE["user"]
    assert result.server.unparse() == f"krbtgt/{REALM}@{REALM}"
    assert result.pa_type == 2 and result.fast_avail
    assert result.session_key.enctype == 18


def test_password_as_sends_enc_timestamp_after_preauth_required() -> None:
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password="x", nonce=7)
    first = decode(ASReq, ex.start(1e9))
    assert not first["padata"].native
    second = decode(ASReq, ex.handle((DATA / "pw_krb_error_1.der").read_bytes(), 1e9))
    types = [p["padata_type"].native for p in second["padata"]]
    assert 2 in types and 133 in types  # PA-ENC-TIMESTAMP and the echoed FX-COOKIE


def test_wrong_password_reply_is_refused() -> None:
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password="wrong",
                    nonce=_nonce("pw_as_req_2.der"))
    ex.start(0)
    ex.handle((DATA / "pw_krb_error_1.der").read_bytes(), 0)
    with pytest.raises(ReplyError, match="wrong password"):
        ex.handle((DATA / "pw_as_rep_1.der").read_bytes(), 0)


def test_nonce_mismatch_refused() -> None:
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password=CAPTURE["user_password"], nonce=1)
    ex.start(0)
    ex.handle((DATA / "pw_krb_error_1.der").read_bytes(), 0)
    with pytest.raises(ReplyError, match="nonce"):
        ex.handle((DATA / "pw_as_rep_1.der").read_bytes(), 0)


def test_tgs_request_shape_and_foreign_subkey_reply_refused() -> None:
    """MIT's kvno sent an Authenticator subkey, so its captured TGS-REP is sealed in that
    subkey (usage 9); we send none, so the reply must be refused, not misread."""
    _, tgt = _golden_as()
    host = Principal.parse(CAPTURE["host_principal"])
    ex = TGSExchange(TGT.of(tgt), host, nonce=_nonce("pw_tgs_req_1.der", TGSReq))
    req = decode(TGSReq, ex.start(tgt.authtime))
    assert req["req_body"]["realm"].native == REALM  # C4
    assert req["padata"][0]["padata_type"].native == 1
    assert req["req_body"]["sname"]["name_string"].native == ["host", "localhost"]
    with pytest.raises(ReplyError, match="cannot decrypt"):
        ex.handle((DATA / "pw_tgs_rep_1.der").read_bytes(), tgt.authtime)


def _skew_error(stime: int) -> bytes:
    return KRBError({
        "pvno": 5, "msg_type": 30,
        "stime": datetime.datetime.fromtimestamp(stime, datetime.UTC), "susec": 0,
        "error_code": 37, "realm": REALM,
        "sname": {"name_type": 2, "name_string": ["krbtgt", REALM]},
    }).dump()


def test_clock_skew_retried_once_with_kdc_offset() -> None:
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password="x", nonce=5)
    ex.start(1_000_000)
    retry = decode(ASReq, ex.handle(_skew_error(1_000_600), 1_000_000))
    assert ex.kdc_offset == 600
    till = retry["req_body"]["till"].native.timestamp()
    assert till == 1_000_600 + ex.options.lifetime
    with pytest.raises(KDCReplyError) as info:
        ex.handle(_skew_error(1_000_600), 1_000_000)
    assert info.value.code == 37


def test_kdc_error_surfaces_code_and_text() -> None:
    err = KRBError({
        "pvno": 5, "msg_type": 30, "stime": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        "susec": 0, "error_code": 6, "realm": REALM, "e_text": "CLIENT_NOT_FOUND",
        "sname": {"name_type": 2, "name_string": ["krbtgt", REALM]},
    }).dump()
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password="x")
    ex.start(0)
    with pytest.raises(KDCReplyError, match=r"KDC_ERR_C_PRINCIPAL_UNKNOWN.*CLIENT_NOT_FOUND"):
        ex.handle(err, 0)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_hostile_replies_raise_typed_errors(data: bytes) -> None:
    ex = ASExchange(Principal.parse(CAPTURE["user"]), password="x")
    ex.start(0)
    try:
        ex.handle(data, 0)
    except GSSMechError:
        pass
