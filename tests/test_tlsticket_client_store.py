"""T7: the client keeps opaque tickets per server in a ccache (seed §3.2, §3.3, §5.8).

Unit tests run over FILE caches we create; the interop test stores tickets in a cache MIT
``kinit`` wrote and checks that MIT ``klist -C`` and ``kvno`` still use it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.ccache import CCache, resolve
from gssmech.errors import CCacheFormatError, GSSMechError, PrincipalError
from gssmech.krb5.principal import Principal
from gssmech.tlsticket import MAX_LIFETIME, TicketEncodeError, TicketError
from gssmech.tlsticket.client_store import (
    CONFIG_KEY,
    StoredTicket,
    TicketEntry,
    TicketStore,
    assoc_principal,
    decode_stored_ticket,
    encode_stored_ticket,
    server_from_assoc,
)

T0 = 1_700_000_000
WEEK = 7 * 24 * 3600
SRV_A = "host/a.example@EXAMPLE.TEST"
SRV_B = "b.example:8443"
CLIENT = Principal.parse("user@EXAMPLE.TEST")


def new_cache(path: Path) -> CCache:
    cache = resolve(f"FILE:{path}")
    cache.initialize(CLIENT)
    return cache


@pytest.fixture
def cache(tmp_path: Path) -> CCache:
    return new_cache(tmp_path / "cc")


def our_entries(cache: CCache) -> dict[str | None, bytes]:
    entries = cache.config_entries()
    return {c.config_principal: c.config_value for c in entries if c.config_key == CONFIG_KEY}


# --- expiry (§3.3) ------------------------------------------------------------------------------
def test_round_trip_and_persistence(cache: CCache) -> None:
    TicketStore(cache).store(SRV_A, b"\x00opaque\xff", 3600, now=T0)
    # A different process would re-resolve the cache: the ticket is in the file.
    again = TicketStore(resolve(cache.full_name))
    assert again.get(SRV_A, now=T0 + 10) == b"\x00opaque\xff"
    assert again.get(SRV_A, now=T0 + 20) == b"\x00opaque\xff"  # reusable by default


def test_expiry_by_hint_deletes_the_entry(cache: CCache) -> None:
    store = TicketStore(cache)
    store.store(SRV_A, b"t", 100, now=T0)
    assert store.get(SRV_A, now=T0 + 99) == b"t"
    assert store.get(SRV_A, now=T0 + 100) is None
    assert our_entries(cache) == {}
    # deleted, not merely hidden: an earlier clock cannot bring it back
    assert store.get(SRV_A, now=T0 + 50) is None


@pytest.mark.parametrize("hint", [0, WEEK + 1, 0xFFFFFFFF])
def test_unspecified_or_long_hint_is_capped_at_seven_days(cache: CCache, hint: int) -> None:
    assert MAX_LIFETIME == WEEK  # RFC 8446 §4.6.1: clients MUST NOT cache longer than 7 days
    store = TicketStore(cache)
    store.store(SRV_A, b"t", hint, now=T0)
    assert store.get(SRV_A, now=T0 + WEEK - 1) == b"t"
    assert store.get(SRV_A, now=T0 + WEEK) is None
    assert our_entries(cache) == {}


def test_local_cap_is_shorter_than_the_hint(cache: CCache) -> None:
    store = TicketStore(cache, max_lifetime=600)
    store.store(SRV_A, b"t", 0, now=T0)
    store.store(SRV_B, b"u", 3600, now=T0)
    assert [e.server for e in store.entries(now=T0 + 599)] == [SRV_A, SRV_B]
    assert store.get(SRV_A, now=T0 + 600) is None
    assert store.get(SRV_B, now=T0 + 600) is None
    # the cap is applied when reading: a store without it still sees B's hour
    store.store(SRV_B, b"u", 3600, now=T0)
    assert TicketStore(cache).get(SRV_B, now=T0 + 600) == b"u"


def test_ticket_received_in_the_future_is_dropped(cache: CCache) -> None:
    store = TicketStore(cache)
    store.store(SRV_A, b"t", 3600, now=T0)
    assert store.get(SRV_A, now=T0 - 1) is None  # the clock went back: age unknown
    assert our_entries(cache) == {}


# --- single use (§5.8, RFC 8446 C.4) and delete on failure (§3.2) -------------------------------
def test_single_use_ticket_is_consumed(cache: CCache) -> None:
    store = TicketStore(cache, single_use=True)
    store.store(SRV_A, b"once", 3600, now=T0)
    assert store.get(SRV_A, now=T0 + 1) == b"once"
    assert store.get(SRV_A, now=T0 + 2) is None
    assert our_entries(cache) == {}


def test_single_use_flag_travels_with_the_ticket(cache: CCache) -> None:
    TicketStore(cache, single_use=False).store(SRV_A, b"once", 3600, now=T0, single_use=True)
    TicketStore(cache, single_use=True).store(SRV_B, b"many", 3600, now=T0, single_use=False)
    reader = TicketStore(cache)  # default mode reusable: still consumes A
    assert reader.get(SRV_A, now=T0) == b"once"
    assert reader.get(SRV_A, now=T0) is None
    assert reader.get(SRV_B, now=T0) == b"many"
    assert reader.get(SRV_B, now=T0) == b"many"


def test_single_use_take_is_atomic_between_threads(cache: CCache) -> None:
    TicketStore(cache, single_use=True).store(SRV_A, b"once", 3600, now=T0)
    got: list[bytes | None] = []
    barrier = threading.Barrier(8)

    def take() -> None:
        store = TicketStore(resolve(cache.full_name))  # separate objects, same file
        barrier.wait()
        got.append(store.get(SRV_A, now=T0 + 1))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got, key=lambda x: x is None) == [b"once"] + [None] * 7


def _take_in_process(name: str, barrier: Any, out: Any) -> None:
    barrier.wait()
    out.put(TicketStore(resolve(name)).get(SRV_A, now=T0 + 1))


def test_single_use_take_is_atomic_between_processes(cache: CCache) -> None:
    """The ccache lock (take_config), not a thread lock, makes single use hold across processes."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for round_ in range(5):
        TicketStore(cache, single_use=True).store(SRV_A, b"once-%d" % round_, 3600, now=T0)
        barrier, out = ctx.Barrier(6), ctx.Queue()
        procs = [
            ctx.Process(target=_take_in_process, args=(cache.full_name, barrier, out))
            for _ in range(6)
        ]
        for p in procs:
            p.start()
        got = [out.get(timeout=30) for _ in procs]
        for p in procs:
            p.join()
        assert sorted(got, key=lambda x: x is None) == [b"once-%d" % round_] + [None] * 5


def test_take_config_consumes_only_when_asked(cache: CCache) -> None:
    cache.set_config("k", b"v1")
    assert cache.take_config("k", consume=lambda v: False) == b"v1"
    assert cache.get_config("k") == b"v1"
    assert cache.take_config("k") == b"v1"
    assert cache.get_config("k") is None and cache.take_config("k") is None


def test_discard_on_failure(cache: CCache) -> None:
    store = TicketStore(cache)
    store.store(SRV_A, b"t", 3600, now=T0)
    store.store(SRV_B, b"u", 3600, now=T0)
    store.discard(SRV_A)
    assert store.get(SRV_A, now=T0) is None
    assert store.get(SRV_B, now=T0) == b"u"
    store.discard(SRV_A)  # nothing left: no error


def test_renewed_ticket_replaces_the_old_one(cache: CCache) -> None:
    store = TicketStore(cache)
    store.store(SRV_A, b"old", 3600, now=T0)
    store.store(SRV_A, b"new", 60, now=T0 + 100)
    # MIT HEAD set_config semantics: the old record is tombstoned in place, one live entry
    ours = [c for c in cache.read().credentials if c.config_key == CONFIG_KEY]
    assert [(c.is_config, c.is_removed) for c in ours] == [(False, True), (True, False)]
    assert store.get(SRV_A, now=T0 + 150) == b"new"
    assert store.get(SRV_A, now=T0 + 160) is None  # the new hint (60 s from T0+100) applies


def test_empty_ticket_means_no_ticket(cache: CCache) -> None:
    store = TicketStore(cache)
    store.store(SRV_A, b"t", 3600, now=T0)
    store.store(SRV_A, b"", 3600, now=T0 + 1)  # §3.3: the server changed its mind
    assert store.get(SRV_A, now=T0 + 2) is None
    assert our_entries(cache) == {}


def test_servers_are_kept_apart(cache: CCache) -> None:
    store = TicketStore(cache, single_use=True)
    servers = [SRV_A, SRV_B, "b.example:8444", "B.example:8443", "host/a.example@OTHER.TEST"]
    for i, server in enumerate(servers):
        store.store(server, bytes([i]) * 40, 3600, now=T0)
    assert len(our_entries(cache)) == len(servers)
    for i, server in enumerate(servers):
        assert store.get(server, now=T0) == bytes([i]) * 40
    assert our_entries(cache) == {}


def test_other_config_entries_are_untouched(cache: CCache) -> None:
    cache.set_config("start_realm", b"EXAMPLE.TEST")
    tgt = Principal.krbtgt("EXAMPLE.TEST")
    cache.set_config(CONFIG_KEY, b"not ours", tgt)  # another principal under our key
    store = TicketStore(cache, single_use=True)
    store.store(SRV_A, b"t", 3600, now=T0)
    assert store.get(SRV_A, now=T0) == b"t"
    assert cache.get_config("start_realm") == b"EXAMPLE.TEST"
    assert cache.get_config(CONFIG_KEY, tgt) == b"not ours"


# --- listing and purging ------------------------------------------------------------------------
def test_entries_and_purge(cache: CCache) -> None:
    store = TicketStore(cache)
    store.store(SRV_A, b"t", 100, now=T0)
    store.store(SRV_B, b"u", 0, now=T0, single_use=True)
    cache.set_config(CONFIG_KEY, b"garbage", assoc_principal("c.example:1"))
    assert store.entries(now=T0 + 1) == [
        TicketEntry(SRV_A, T0, 100, False, T0 + 100),
        TicketEntry(SRV_B, T0, 0, True, T0 + WEEK),
    ]
    assert [e.server for e in store.entries(now=T0 + 100)] == [SRV_B]
    assert store.entries(now=T0 + 100) == store.entries(now=T0 + 100)  # listing consumes nothing
    assert store.purge(now=T0 + 100) == [SRV_A, "c.example:1"]
    assert list(our_entries(cache)) == ["b.example:8443@"]
    assert store.get(SRV_B, now=T0 + 100) == b"u"


# --- malformed stored values ------------------------------------------------------------------
GOOD = b"1:1700000000:3600:reusable:dGlja2V0"

MALFORMED = [
    b"",
    b"garbage",
    GOOD + b"\n",
    b" " + GOOD,
    GOOD.replace(b"1:", b"2:", 1),  # unknown format version
    b"1:01700000000:3600:reusable:dGlja2V0",  # non-canonical decimal
    b"1:+1700000000:3600:reusable:dGlja2V0",
    b"1:1700000000:4294967296:reusable:dGlja2V0",  # hint beyond uint32
    b"1:99999999999999999999:3600:reusable:dGlja2V0",
    b"1:9300000000000000000:3600:reusable:dGlja2V0",  # beyond 2^63-1
    b"1:1700000000:3600:maybe:dGlja2V0",
    b"1:1700000000:3600:reusable:",
    b"1:1700000000:3600:reusable:dGlja2V",  # truncated base64
    b"1:1700000000:3600:reusable:AQJ=",  # non-canonical trailing bits (canonical: AQI=)
    b"1:1700000000:3600:reusable:dGlj=a2V0",
    b"1:1700000000:3600:reusable:" + b"A" * 87384,  # 65538 bytes: beyond opaque<0..2^16-1>
    "1:1700000000:3600:reusable:dGlja2V0\u0661".encode(),  # non-ASCII
    b"1 1700000000 3600 reusable dGlja2V0",  # the separator is ':'
    b"1:1700000000:3600:reusable:dGlja2V0:",
]


def test_good_value_is_what_the_format_says() -> None:
    assert decode_stored_ticket(GOOD) == StoredTicket(T0, 3600, False, b"ticket")
    assert encode_stored_ticket(StoredTicket(T0, 0, True, b"\x01\x02\x03")) == (
        b"1:1700000000:0:single-use:AQID"
    )


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_value_is_absent_and_removed(cache: CCache, value: bytes) -> None:
    with pytest.raises(CCacheFormatError):
        decode_stored_ticket(value)
    cache.set_config(CONFIG_KEY, value, assoc_principal(SRV_A))
    store = TicketStore(cache)
    assert store.entries(now=T0) == []
    assert store.get(SRV_A, now=T0) is None
    assert our_entries(cache) == {}


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.binary(max_size=200) | st.builds(lambda s: GOOD[:s], st.integers(0, len(GOOD))))
def test_random_stored_values_never_raise(cache: CCache, value: bytes) -> None:
    cache.set_config(CONFIG_KEY, value, assoc_principal(SRV_B))
    try:
        expected = decode_stored_ticket(value)
    except CCacheFormatError:
        expected = None
    got = TicketStore(cache).get(SRV_B, now=T0 + 1)
    if expected is not None and expected.is_usable_at(T0 + 1):
        assert got == expected.ticket
    else:
        assert got is None
        assert our_entries(cache) == {}


stored_tickets = st.builds(
    StoredTicket,
    received_at=st.integers(0, (1 << 63) - 1),
    lifetime_hint=st.integers(0, 0xFFFFFFFF),
    single_use=st.booleans(),
    ticket=st.binary(min_size=1, max_size=300),
)


@given(stored_tickets)
def test_codec_round_trip(entry: StoredTicket) -> None:
    raw = encode_stored_ticket(entry)
    assert raw.isascii() and all(0x20 <= b < 0x7F for b in raw)  # klist -C shows it as is
    assert decode_stored_ticket(raw) == entry


@given(st.binary(max_size=120))
def test_codec_accepts_only_canonical_values(raw: bytes) -> None:
    try:
        entry = decode_stored_ticket(raw)
    except CCacheFormatError:
        return
    assert encode_stored_ticket(entry) == raw


# --- server identifiers -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("server", "component"),
    [
        ("host/localhost@EXAMPLE.TEST", "host/localhost@EXAMPLE.TEST"),
        ("example.com:443", "example.com:443@"),
        ("[::1]:8443", "[::1]:8443@"),
        ("a/b", "a%2Fb@"),  # no realm: not a principal
        ("user@", "user%40@"),  # empty realm: not a principal
        ("x y\n\\%", "x%20y%0A%5C%25@"),
        ("caf\u00e9:1", "caf%C3%A9:1@"),
        ("a\\/b@R", "a\\/b@R"),  # canonical: one component "a/b"
        ("a\\xb@R", "a%5Cxb%40R@"),  # a principal, but not in canonical (unparsed) form
        ("a@R\\@", "a@R\\@"),  # canonical, realm "R@"
    ],
)
def test_server_to_assoc_component(server: str, component: str) -> None:
    assert assoc_principal(server).unparse() == component
    assert server_from_assoc(component) == server


@given(st.text(min_size=1, max_size=40, alphabet=st.characters(exclude_categories=["Cs"])))
def test_assoc_mapping_is_reversible(server: str) -> None:
    component = assoc_principal(server).unparse()
    assert "\0" not in component  # MIT builds the component from a C string
    assert server_from_assoc(component) == server


@given(st.text(max_size=30))
def test_server_from_arbitrary_component_is_consistent(component: str) -> None:
    server = server_from_assoc(component)
    if server is not None:
        assert assoc_principal(server).unparse() == component


@given(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12))
def test_distinct_servers_get_distinct_entries(a: str, b: str) -> None:
    try:
        pa, pb = assoc_principal(a).unparse(), assoc_principal(b).unparse()
    except PrincipalError:  # lone surrogates
        return
    assert (pa == pb) == (a == b)


# --- caller mistakes: typed errors only ----------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"server": ""}, PrincipalError),
        ({"server": b"host"}, PrincipalError),
        ({"server": "\ud800:1"}, PrincipalError),
        ({"ticket": b"x" * 65536}, TicketEncodeError),
        ({"ticket": "text"}, TicketEncodeError),
        ({"lifetime_hint": -1}, TicketEncodeError),
        ({"lifetime_hint": 1 << 32}, TicketEncodeError),
        ({"lifetime_hint": 1.5}, TicketEncodeError),
        ({"now": -1}, TicketEncodeError),
        ({"now": float("nan")}, TicketEncodeError),
        ({"now": float("inf")}, TicketEncodeError),
    ],
)
def test_bad_store_arguments(cache: CCache, kwargs: dict[str, Any], error: type) -> None:
    args: dict[str, Any] = {"server": SRV_A, "ticket": b"t", "lifetime_hint": 1, "now": T0}
    args.update(kwargs)
    with pytest.raises(error):
        TicketStore(cache).store(**args)
    assert our_entries(cache) == {}


@pytest.mark.parametrize("max_lifetime", [0, -1, WEEK + 1, True])
def test_bad_max_lifetime(cache: CCache, max_lifetime: int) -> None:
    with pytest.raises(TicketError):
        TicketStore(cache, max_lifetime=max_lifetime)


def test_uninitialized_cache_gives_a_ccache_error(tmp_path: Path) -> None:
    store = TicketStore(resolve(f"FILE:{tmp_path / 'missing'}"))
    for call in (lambda: store.get(SRV_A, now=T0), lambda: store.store(SRV_A, b"t", 1, now=T0)):
        with pytest.raises(GSSMechError):
            call()


# --- MIT interop --------------------------------------------------------------------------------
@pytest.mark.interop
def test_mit_tools_still_use_the_cache(mit_realm: Any, tmp_path: Path) -> None:
    path = tmp_path / "cc"
    mit_realm.kinit(mit_realm.user, ccache=path)
    store = TicketStore(resolve(f"FILE:{path}"))
    t_host, t_web = bytes(range(256)) * 2, b"\x00\xff" * 100
    store.store(mit_realm.host_principal, t_host, 7200)
    store.store("localhost:8443", t_web, 0, single_use=True)

    out = mit_realm.run(["klist", "-C", "-c", str(path)], env_extra={"LC_ALL": "C"}).stdout
    shown: dict[str, str] = {}
    last = None
    for line in out.splitlines():
        if line.startswith(f"config: {CONFIG_KEY}("):
            assoc, _, value = line[len(f"config: {CONFIG_KEY}(") :].partition(") = ")
            shown[assoc] = value
            last = assoc
        elif last is not None and line.startswith(" "):  # klist wraps long values
            shown[last] += line.strip()
        else:
            last = None
    assert set(shown) == {mit_realm.host_principal, "localhost:8443@"}
    # MIT read our value bytes back exactly (printable ASCII is shown unescaped)
    assert decode_stored_ticket(shown[mit_realm.host_principal].encode()).ticket == t_host
    web = decode_stored_ticket(shown["localhost:8443@"].encode())
    assert (web.ticket, web.lifetime_hint, web.single_use) == (t_web, 0, True)
    assert f"krbtgt/{mit_realm.realm}@{mit_realm.realm}" in out

    # MIT kvno uses the TGT in the same file and appends a service ticket after our entries
    kvno = mit_realm.run(["kvno", "-c", str(path), mit_realm.host_principal]).stdout
    assert "kvno = " in kvno
    out = mit_realm.run(["klist", "-c", str(path)], env_extra={"LC_ALL": "C"}).stdout
    assert mit_realm.host_principal in out

    assert store.get(mit_realm.host_principal) == t_host
    assert store.get("localhost:8443") == t_web
    assert store.get("localhost:8443") is None  # single use
    assert store.get(mit_realm.host_principal) == t_host
