"""krb5.conf / kdc.conf parsing (gssmech.krb5.config) against MIT krb5 1.20's profile library.

The unit tests pin the rules of MIT's ``prof_parse.c``/``prof_tree.c``/``x-deltat.y``; the
interop tests compile a small C program against libkrb5 and compare our answers with MIT's
for hand-written and generated configurations (differential testing).
"""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gssmech.errors import ConfigError
from gssmech.krb5.config import (
    DEFAULT_CCACHE_NAME,
    DEFAULT_CLIENT_KEYTAB_NAME,
    DEFAULT_KEYTAB_NAME,
    MAX_INCLUDE_DEPTH,
    NoIncludes,
    Profile,
    default_ccache_name,
    default_client_keytab_name,
    default_keytab_name,
    default_realm,
    expand_path_tokens,
    libdefault,
    load_default,
    load_files,
    load_kdc_profile,
    parse_bytes,
    parse_text,
    pkinit_anchors,
    realm_kdcs,
    string_to_deltat,
)


def P(text: str) -> Profile:
    return parse_text(text, "t.conf", includes=NoIncludes())


class DictIncludes:
    """An in-memory file system for include/includedir."""

    def __init__(self, files: dict[str, str], dirs: dict[str, list[str]] | None = None):
        self.files = {k.encode(): v.encode() for k, v in files.items()}
        self.dirs = {k.encode(): [n.encode() for n in v] for k, v in (dirs or {}).items()}
        self.read: list[bytes] = []

    def read_file(self, path: bytes) -> bytes:
        self.read.append(path)
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    def list_dir(self, path: bytes) -> list[bytes]:
        if path not in self.dirs:
            raise FileNotFoundError(path)
        return self.dirs[path]


# --- syntax ----------------------------------------------------------------------------


def test_sections_relations_and_comments() -> None:
    p = P(
        "junk before the first section is ignored\n"
        "  [notasection]\n"
        "[libdefaults]\n"
        "# comment\n"
        "  ; indented comment\n"
        "\tdefault_realm = EXAMPLE.COM   \n"
        "  forwardable=true\n"
        "  spaced = a b  c\t\n"
        "[ spaced name ]\n"
        " k = v\n"
    )
    assert p.get("libdefaults", "default_realm") == "EXAMPLE.COM"
    assert p.get("libdefaults", "forwardable") == "true"
    assert p.get("libdefaults", "spaced") == "a b  c"
    assert p.sections() == [" spaced name ", "libdefaults"]  # strcmp order, name not stripped
    assert p.get("notasection", "x") is None
    assert p.get("libdefaults", "missing", default="d") == "d"


def test_quoted_values() -> None:
    p = P(
        "[s]\n"
        ' a = "x\\ty\\nz\\b\\\\\\q\\"end" ignored tail\n'
        ' b = "  keep spaces  "\n'
        ' c = "unterminated  \n'
        ' d = "trailing backslash\\\n'
        ' e = ""\n'
        ' f = "{"\n'
    )
    assert p.get("s", "a") == 'x\ty\nz\b\\q"end'
    assert p.get("s", "b") == "  keep spaces  "
    assert p.get("s", "c") == "unterminated  "
    assert p.get("s", "d") == "trailing backslash\\"
    assert p.get("s", "e") == ""
    assert p.get("s", "f") == "{" and p.subsections("s") == []


def test_subsections_nested_and_brace_on_next_line() -> None:
    p = P(
        "[realms]\n"
        " R = {\n"
        "  kdc = k1\n"
        "  kdc = k2:88\n"
        "  sub =\n"
        "   {  anything after the brace is ignored\n"
        "    deep = 1\n"
        "   }\n"
        "  v4 = {   \n"
        "  }\n"
        " }\n"
        " S = {x\n"
    )
    assert realm_kdcs(p, "R") == ["k1", "k2:88"]
    assert p.get("realms", "R", "sub", "deep") == "1"
    assert p.subsections("realms", "R") == ["sub", "v4"]
    assert p.get("realms", "S") == "{x"  # "{" followed by text is a plain value


def test_duplicate_subsections_merge_and_first_value_wins() -> None:
    p = P("[s]\n A = {\n x = 1\n }\n B = 2\n A = {\n x = 3\n }\n A = 4\n[t]\n[s]\n z = 5\n")
    assert p.get_all("s", "A", "x") == ["1", "3"]
    assert p.get("s", "A", "x") == "1"
    assert p.get_all("s", "A") == ["4"]  # relations only; the subsection A is not a value
    assert p.subsections("s") == ["A"]
    assert p.relations("s") == ["A", "B", "z"]


def test_star_in_tag_truncates_it() -> None:
    p = P("[s]\n ab*c = 1\n x* = {\n y = 2\n }\n")
    assert p.get("s", "ab") == "1"
    assert p.get("s", "x", "y") == "2"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[s\n", 1),
        ("[s] x\n", 1),
        ("[s]\n a b = c\n", 2),
        ("[s]\n = c\n", 2),
        ("[s]\n novalue\n", 2),
        ("[s]\n}\n", 2),
        ("[s]\n a = {\n[t]\n", 3),
        ("[s]\n a =\n\n {\n", 3),
        ("[s]\n a =\n # c\n", 3),
        ("[s]\n a = 1\n" + " b = " + "x" * 2100 + "\n", 3),  # fgets splits the long line
    ],
)
def test_syntax_errors_name_file_and_line(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_text(text, "/etc/bad.conf", includes=NoIncludes())
    assert info.value.source == "/etc/bad.conf"
    assert f"line {line}:" in str(info.value) and "/etc/bad.conf" in str(info.value)


def test_harmless_oddities() -> None:
    p = P("[s]*  \n a = {\n } trailing\n b = 1\n a = {\n c = 2\n}\n")
    assert p.get("s", "b") == "1" and p.get("s", "a", "c") == "2"
    assert P("[s]\n a = {\n b = 1\n").get("s", "a", "b") == "1"  # unclosed at EOF
    assert P("[s]\n a =\n").subsections("s") == ["a"]  # brace never came: no error
    assert P("[s]\r\n a = 1\r\n").get("s", "a") == "1"


def test_nul_byte_ends_the_line_text() -> None:
    p = parse_bytes(b"[s]\n a = x\0y\n c = 4\0\n d = 5\n", includes=NoIncludes())
    assert (p.get("s", "a"), p.get("s", "c"), p.get("s", "d")) == ("x", "4", "5")
    with pytest.raises(ConfigError):
        parse_bytes(b"[s]\n b\0 = 3\n", includes=NoIncludes())


# --- several files, finality -------------------------------------------------------------


def _files(tmp_path: Path, **texts: str) -> list[str]:
    paths = []
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
        paths.append(str(tmp_path / name))
    return paths


def test_precedence_and_final_markers(tmp_path: Path) -> None:
    paths = _files(
        tmp_path,
        a="[libdefaults]\n default_realm = A\n x* = 1\n[realms]\n R = {\n kdc = a1\n }\n",
        b="[libdefaults]\n default_realm = B\n x = 2\n[realms]\n R = {\n kdc = b1\n }*\n",
        c="[libdefaults]\n y = 3\n[realms]\n R = {\n kdc = c1\n }\n Q = {\n kdc = q\n }\n",
        d="[realms]*\n Q = {\n kdc = d\n }\n",
    )
    p = load_files([*paths, str(tmp_path / "missing")])
    assert default_realm(p) == "A"
    assert p.get_all("libdefaults", "default_realm") == ["A", "B"]
    assert p.get_all("libdefaults", "x") == ["1", "2"]  # a final relation stops nothing
    assert realm_kdcs(p, "R") == ["a1", "b1"]  # b's R is final: c is not consulted
    assert p.get_all("libdefaults", "y") == ["3"]
    assert p.subsections("realms") == ["R", "Q"]
    q = load_files([paths[3], paths[2]])
    assert realm_kdcs(q, "Q") == ["d"] and realm_kdcs(q, "R") == []
    assert q.sources == [paths[3], paths[2]]


def test_missing_unreadable_and_directory_entries(tmp_path: Path) -> None:
    assert load_files([str(tmp_path / "nope")]).sections() == []
    with pytest.raises(ConfigError):
        load_files([str(tmp_path / "nope"), "/etc/passwd/notadir"])  # ENOTDIR is an error
    d = tmp_path / "d"
    d.mkdir()
    (d / "b").write_text("[s]\n f = 1\n")
    (d / "a.conf").write_text("[s]\n f = 2\n")
    (d / ".hidden.conf").write_text("[s]\n f = 3\n")
    (d / "x~").write_text("[s]\n f = 4\n")
    assert load_files([str(d)]).get_all("s", "f") == ["2", "1"]


def test_load_default_and_kdc_profile(tmp_path: Path) -> None:
    a, b, k = _files(tmp_path, a="[x]\n v = a\n", b="[x]\n v = b\n", k="[kdcdefaults]\n p = 1\n")
    env = {"KRB5_CONFIG": f"{a}::{tmp_path}/none:{b}", "KRB5_KDC_PROFILE": k}
    assert load_default(env).get_all("x", "v") == ["a", "b"]
    assert load_kdc_profile(env).get("kdcdefaults", "p") == "1"
    both = load_kdc_profile(env, with_krb5_conf=True)
    assert both.sources == [k, a, b] and both.get("x", "v") == "a"
    home = {"KRB5_CONFIG": "~/a", "HOME": str(tmp_path)}
    assert load_default(home).get("x", "v") == "a"


# --- include / includedir -----------------------------------------------------------------


def test_include_and_includedir() -> None:
    fs = DictIncludes(
        {
            "/i/one": "[s]\n v = one\n",
            "/d/z.conf": "junk\n[s]\n v = z\n",
            "/d/a-b_C": "[s]\n v = abc\n",
            "/d/9": "[t]\n w = 9\n",
        },
        {"/d": ["z.conf", ".z.conf", "a-b_C", "bak.conf~", "x.rpmsave", "9", "sub.d"]},
    )
    p = parse_text(
        "[s]\n v = first\n a = {\ninclude /i/one\n b = 1\n }\nincludedir /d\n", includes=fs
    )
    # Includes merge into the same tree; the includer's open subsection is unaffected.
    assert p.get_all("s", "v") == ["first", "one", "abc", "z"]  # strcmp order
    assert p.get("s", "a", "b") == "1" and p.get("t", "w") == "9"
    assert b"/d/x.rpmsave" not in fs.read and b"/d/.z.conf" not in fs.read


@pytest.mark.parametrize(
    "text",
    [
        "[s]\ninclude /missing\n",
        "[s]\nincludedir /missing\n",
        "[s]\ninclude /bad\n",
        "[s]\ninclude /loop\n",
        "[s]\ninclude /mod\n",
    ],
)
def test_include_failures(text: str) -> None:
    fs = DictIncludes(
        {"/bad": "[s]\n oops\n", "/loop": "[s]\ninclude /loop\n", "/mod": "module x:y\n"}
    )
    with pytest.raises(ConfigError):
        parse_text(text, includes=fs)
    assert len(fs.read) <= MAX_INCLUDE_DEPTH + 1


def test_module_directive_in_first_file_is_recorded_and_ends_the_file() -> None:
    p = P("module /lib/x.so:res\n[s]\n a = 1\n")
    assert p.module == "/lib/x.so:res" and p.sections() == []


# --- typed values -----------------------------------------------------------------------


def test_booleans_integers_durations() -> None:
    words = ["y", "YES", "True", "t", "1", "oN", "n", "No", "FALSE", "nil", "0", "off"]
    text = "[b]\n" + "".join(f" w{i} = {w}\n" for i, w in enumerate(words))
    text += " bad = yes please\n[i]\n hex = 0x1F\n oct = 010\n neg = -5\n big = 2147483648\n"
    text += " junk = 12ab\n[d]\n a = 10h\n b = 1d 2h 3m 4s\n c = 1:00:00\n e = 2-03:00:00\n"
    p = P(text)
    assert [p.get_bool("b", f"w{i}", default=False) for i in range(6)] == [True] * 6
    assert [p.get_bool("b", f"w{i}", default=True) for i in range(6, 12)] == [False] * 6
    assert p.get_bool("b", "absent", default=True) is True
    with pytest.raises(ConfigError):
        p.get_bool("b", "bad", default=False)
    assert p.get_int("i", "oct", default=0) == 10  # base 10: no octal, and no hex
    assert p.get_int("i", "neg", default=0) == -5 and p.get_int("i", "x", default=7) == 7
    for name in ("big", "junk", "hex"):
        with pytest.raises(ConfigError):
            p.get_int("i", name, default=0)
    assert [p.get_duration("d", n, default=0) for n in "abce"] == [
        36000,
        86400 + 7200 + 180 + 4,
        3600,
        2 * 86400 + 3 * 3600,
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600", 3600),
        ("90m", 5400),
        ("1h30m", 5400),
        ("1:30", 5400),
        ("-1d", -86400),
        (" 5s", 5),
        ("1d ", 86400),
        ("10hjunk", 36000),  # MIT's lexer ends the input at the first unknown character
        ("1d2s", 86402),
    ],
)
def test_deltat_accepts(text: str, seconds: int) -> None:
    assert string_to_deltat(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "h", "1s ", "5 ", "1:100", "1h2h", "- 1", "99999999999", "24856d", "1d 5"]
)
def test_deltat_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        string_to_deltat(text)


# --- named lookups ------------------------------------------------------------------------


def test_libdefault_and_pkinit_search_order() -> None:
    p = P(
        "[libdefaults]\n opt = global\n pkinit_anchors = FILE:/g\n"
        " R = {\n  opt = realm\n }\n"
        "[realms]\n R = {\n  pkinit_anchors = FILE:/r1\n  pkinit_anchors = DIR:/r2\n }\n"
        " S = {\n  kdc = s\n }\n"
    )
    assert libdefault(p, "opt", "R") == "realm"
    assert libdefault(p, "opt", "S") == "global" and libdefault(p, "opt") == "global"
    assert pkinit_anchors(p, "R") == ["FILE:/r1", "DIR:/r2"]
    assert pkinit_anchors(p, "S") == ["FILE:/g"] and pkinit_anchors(p, None) == ["FILE:/g"]
    q = P(
        "[libdefaults]\n R = {\n pkinit_anchors = FILE:/lr\n }\n[realms]\n R = {\n"
        " pkinit_anchors = FILE:/r\n }\n"
    )
    assert pkinit_anchors(q, "R") == ["FILE:/lr"]


def test_default_names() -> None:
    empty = P("")
    assert default_ccache_name(empty) == DEFAULT_CCACHE_NAME
    assert default_keytab_name(empty) == DEFAULT_KEYTAB_NAME
    assert default_client_keytab_name(empty) == DEFAULT_CLIENT_KEYTAB_NAME
    p = P("[libdefaults]\n default_ccache_name = DIR:/c\n default_keytab_name = FILE:/k\n")
    assert default_ccache_name(p) == "DIR:/c"
    assert default_ccache_name(p, {"KRB5CCNAME": "MEMORY:x"}) == "MEMORY:x"
    assert default_keytab_name(p, {}) == "FILE:/k"


def test_expand_path_tokens() -> None:
    kw = {"uid": 1000, "euid": 1001, "username": "alice", "env": {"TMPDIR": "/tt"}}
    assert (
        expand_path_tokens("FILE:%{TEMP}/krb5cc_%{uid}_%{euid}_%{USERID}_%{username}%{null}", **kw)
        == "FILE:/tt/krb5cc_1000_1001_1000_alice"
    )
    assert expand_path_tokens("%{LIBDIR}|%{BINDIR}|%{SBINDIR}", libdir="/L", **kw).startswith("/L|")
    assert expand_path_tokens("%{u}%{e}%{U}", **kw) == "alice10011000"  # prefix matching
    assert expand_path_tokens("100%% %{TEMP}", uid=0, env={}) == "100%% /tmp"
    assert expand_path_tokens("%{svc}", extra={"svc": "x"}, **kw) == "x"
    for bad in ("%{bogus}", "%{uid", "%{}", "%{uidx}"):
        with pytest.raises(ConfigError):
            expand_path_tokens(bad, **kw)


# --- robustness --------------------------------------------------------------------------

_FRAGMENTS = [
    "[a]",
    "[b]*",
    " [c] ",
    "[a] x",
    "[b",
    "a = 1",
    "b = two words  ",
    "a* = 3",
    'c = "q\\tz\\"x" tail',
    'a = "open',
    "b = {",
    "c = {",
    "a =",
    "{",
    " {",
    "}",
    "}*",
    "} junk",
    "# c",
    "; c",
    "  # c",
    "",
    "   ",
    "a b = 1",
    "= 1",
    "novalue",
    "a=1",
    "\ta\t=\t{\t",
    "c = {x",
    "b*c = {",
    "\\",
    '"',
    "*",
    "a = \x00z",
    "a = é",
]
_LINES = st.lists(st.sampled_from(_FRAGMENTS), max_size=25)


@given(st.text(max_size=400))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_random_text_never_escapes(text: str) -> None:
    try:
        p = parse_text(text, includes=NoIncludes())
    except ConfigError:
        return
    for path in (("a",), ("a", "b"), (text[:3] or "x", "y")):
        p.get_all(*path)
        p.subsections(*path)


@given(st.binary(max_size=400))
@settings(max_examples=300)
def test_random_bytes_never_escape(data: bytes) -> None:
    for candidate in (data, data.decode("utf-8", errors="replace").encode()):
        try:
            parse_bytes(candidate, includes=NoIncludes()).sections()
        except ConfigError:
            pass
    try:
        string_to_deltat(data.decode("latin-1"))
    except ConfigError:
        pass


@given(_LINES, st.sampled_from(["\n", "\r\n"]))
@settings(max_examples=300)
def test_structured_text_never_escapes(lines: list[str], eol: str) -> None:
    try:
        p = P(eol.join(lines))
    except ConfigError:
        return
    for sec in ("a", "b", "c"):
        for name in ("a", "b", "c"):
            p.get_all(sec, name)
            p.get_all(sec, name, "a")


# --- interop: MIT's own profile library -------------------------------------------------

_PROBE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <krb5.h>
#include <profile.h>

/* Fields and answers travel hex-encoded ("-" = empty) so any byte survives. */
static void unhex(const char *h, char *out)
{
    size_t n = strlen(h) / 2, i;
    for (i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        out[i] = (char)v;
    }
    out[n] = 0;
}

static void puthex(const char *s)
{
    for (; *s; s++)
        printf("%02x", (unsigned char)*s);
}

static void put_list(long ret, char **vals)
{
    int i;
    if (ret) {
        printf("ERR %ld\n", ret);
        return;
    }
    printf("OK");
    for (i = 0; vals[i]; i++) {
        printf("\t");
        puthex(vals[i]);
    }
    printf("\n");
    profile_free_list(vals);
}

static int default_names(void)
{
    krb5_context ctx;
    krb5_keytab kt;
    char buf[4096];
    long ret = krb5_init_context(&ctx);
    if (ret) {
        printf("ERR %ld\n", ret);
        return 0;
    }
    printf("CC\t");
    puthex(krb5_cc_default_name(ctx));
    printf("\n");
    if (krb5_kt_default_name(ctx, buf, sizeof(buf)) == 0) {
        printf("KT\t");
        puthex(buf);
        printf("\n");
    }
    if (krb5_kt_client_default(ctx, &kt) == 0 &&
        krb5_kt_get_name(ctx, kt, buf, sizeof(buf)) == 0) {
        printf("CKT\t");
        puthex(buf);
        printf("\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    profile_t prof = NULL;
    long ret;
    static char line[65536];

    if (argc > 1 && strcmp(argv[1], "-ctx") == 0)
        return default_names();
    ret = profile_init_path(argc > 1 ? argv[1] : "", &prof);
    if (ret) {
        printf("INITERR %ld\n", ret);
        return 0;
    }
    printf("INITOK\n");
    while (fgets(line, sizeof(line), stdin)) {
        char *f[64], *save = NULL, *tok, *op, **vals = NULL;
        int nf = 0, i, v = -7;
        krb5_deltat d = 0;

        line[strcspn(line, "\n")] = 0;
        op = strtok_r(line, "\t", &save);
        if (!op)
            continue;
        while ((tok = strtok_r(NULL, "\t", &save)) && nf < 63) {
            f[nf] = malloc(strlen(tok) / 2 + 1);
            unhex(strcmp(tok, "-") ? tok : "", f[nf++]);
        }
        f[nf] = NULL;
        for (i = nf; i < 3; i++)
            f[i] = NULL;
        if (!strcmp(op, "V") || !strcmp(op, "S") || !strcmp(op, "R")) {
            if (op[0] == 'V')
                ret = profile_get_values(prof, (const char *const *)f, &vals);
            else if (op[0] == 'S')
                ret = profile_get_subsection_names(prof, (const char **)f, &vals);
            else
                ret = profile_get_relation_names(prof, (const char **)f, &vals);
            put_list(ret, vals);
        } else if (!strcmp(op, "B") || !strcmp(op, "I")) {
            if (op[0] == 'B')
                ret = profile_get_boolean(prof, f[0], f[1], f[2], -7, &v);
            else
                ret = profile_get_integer(prof, f[0], f[1], f[2], -7, &v);
            if (ret)
                printf("ERR %ld\n", ret);
            else
                printf("OK %d\n", v);
        } else if (!strcmp(op, "D")) {
            ret = krb5_string_to_deltat(f[0], &d);
            if (ret)
                printf("ERR %ld\n", ret);
            else
                printf("OK %d\n", (int)d);
        } else {
            printf("BADOP\n");
        }
        fflush(stdout);
        for (i = 0; i < nf; i++)
            free(f[i]);
    }
    profile_release(prof);
    return 0;
}
"""


@pytest.fixture(scope="session")
def mit_probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A C program linked with MIT libkrb5 that answers profile queries (hex on the wire)."""
    if shutil.which("gcc") is None or shutil.which("krb5-config") is None:
        pytest.skip("gcc or krb5-config missing")
    flags = subprocess.run(
        ["krb5-config", "--cflags", "--libs", "krb5"], capture_output=True, text=True, check=True
    ).stdout
    d = tmp_path_factory.mktemp("probe")
    (d / "probe.c").write_text(_PROBE_C)
    subprocess.run(
        ["gcc", "-o", str(d / "probe"), str(d / "probe.c"), *shlex.split(flags)], check=True
    )
    return d / "probe"


def _hex(field: str) -> str:
    return field.encode("utf-8", "surrogateescape").hex() or "-"


def mit_query(probe: Path, path: str, queries: list[tuple[str, ...]]) -> list | None:
    """MIT's answers, or None when MIT fails to load the profile."""
    lines = "".join(op + "".join("\t" + _hex(f) for f in fields) + "\n" for op, *fields in queries)
    out = subprocess.run(
        [str(probe), path], input=lines.encode(), capture_output=True, check=True, timeout=60
    ).stdout.decode()
    first, *rest = out.splitlines()
    if first.startswith("INITERR"):
        return None
    answers: list = []
    for line in rest:
        kind, *vals = line.split("\t") if "\t" in line else line.split(" ")
        if kind == "ERR":
            answers.append(None)
        elif kind == "OK" and queries[len(answers)][0] in "BID":
            answers.append(int(vals[0]))
        else:
            answers.append([bytes.fromhex(v).decode("utf-8", "surrogateescape") for v in vals])
    return answers


def our_answers(p: Profile, queries: list[tuple[str, ...]]) -> list:
    answers: list = []
    for op, *names in queries:
        if op == "V":
            answers.append(p.get_all(*names) or None)
        elif op in "SR":
            got = p.subsections(*names) if op == "S" else p.relations(*names)
            answers.append(got)
        elif op in "BI":
            # The probe passes -7 as MIT's default, so an absent value reads as -7.
            if p.get(*names) is None:
                answers.append(-7)
                continue
            try:
                if op == "B":
                    answers.append(int(p.get_bool(*names, default=False)))
                else:
                    answers.append(p.get_int(*names, default=-7))
            except ConfigError:
                answers.append(None)
        elif op == "D":
            try:
                answers.append(string_to_deltat(names[0]))
            except ConfigError:
                answers.append(None)
    return answers


def _dedup(answer: list | None) -> list | None:
    return list(dict.fromkeys(answer)) if answer is not None else []


def compare_with_mit(probe: Path, paths: list[str], queries: list[tuple[str, ...]]) -> None:
    theirs = mit_query(probe, ":".join(paths), queries)
    try:
        ours_p = load_files(paths)
    except ConfigError:
        assert theirs is None, "we rejected a profile MIT accepts"
        return
    if theirs is None and not any(os.path.exists(p) for p in paths):
        theirs = [None if q[0] in "VBI" else [] for q in queries]  # MIT: ENOENT = empty
    assert theirs is not None, "we accepted a profile MIT rejects"
    ours = our_answers(ours_p, queries)
    for q, mine, mit in zip(queries, ours, theirs):
        if q[0] in "SR":
            mit = _dedup(mit)  # MIT repeats subsection names once per file; we do not
        assert mine == mit, (q, mine, mit)


_NAMES = ("a", "b", "c")
_QUERIES: list[tuple[str, ...]] = (
    [("S",)]
    + [(op, x) for x in _NAMES for op in "VSR"]
    + [(op, x, y) for x in _NAMES for y in _NAMES for op in "VSR"]
    + [("V", x, y, z) for x in _NAMES for y in _NAMES for z in _NAMES]
)

_CORPUS = [
    "[a]\n a = 1\n a = 2\n b = {\n c = 3\n }*\n[b]*\n c = x\n",
    "[a]\n b = {\n a = 1\n }\n b = {\n a = 2\n c = {\n a = deep\n }\n }\n b = 9\n",
    '[a]\n a = "x\\ty\\"z" tail\n b = "open  \n c = ""\n',
    "[a]\n b =\n  { rest\n  a = 1\n }\n",
    "[a]\n b =\n\n {\n",
    "[a]\n}\n",
    "[a\n",
    "[a]  x\n",
    "[c]\n a b = 1\n",
    "[c]\n a*b = 1\n c* = {\n a = 2\n }\n",
    "junk\n  [b]\n[a]\n a = 1\n",
    "[a]\n a = 1\n" + " b = " + "y" * 2050 + "\n",
    "[a]\r\n a = 1\r\n\tb\t=\t{\t\r\n c = 2\r\n }\r\n",
]


@pytest.mark.interop
@pytest.mark.parametrize("text", _CORPUS)
def test_corpus_matches_mit(mit_probe: Path, tmp_path: Path, text: str) -> None:
    f = tmp_path / "k.conf"
    f.write_text(text)
    compare_with_mit(mit_probe, [str(f)], _QUERIES)


@pytest.mark.interop
def test_multiple_files_finality_and_includes_match_mit(mit_probe: Path, tmp_path: Path) -> None:
    d = tmp_path / "inc.d"
    d.mkdir()
    (d / "b").write_text("[a]\n a = from-b\n")
    (d / "a.conf").write_text("junk\n[a]\n a = from-a.conf\n b = {\n c = inc\n }\n")
    (d / ".a.conf").write_text("[a]\n a = dot\n")
    (d / "x~").write_text("[a]\n a = tilde\n")
    (d / "c-d_E").write_text("[c]\n a = cde\n")
    (d / "sub").mkdir()
    (tmp_path / "one").write_text("[b]\n a = one\n")
    paths = _files(
        tmp_path,
        f1=f"[a]\n a = f1\n b = {{\ninclude {tmp_path}/one\n c = f1\n }}\n"
        f"includedir {d}\ninclude {d}/sub\n",
        f2="[a]\n a = f2\n b = {\n c = f2\n }*\n[c]\n a = f2\n",
        f3="[a]\n a = f3\n b = {\n c = f3\n }\n[c]*\n b = {\n a = f3\n }\n",
        f4="[c]\n a = f4\n b = {\n a = f4\n }\n",
    )
    for order in (paths, paths[::-1], [str(d), *paths[2:]], [str(tmp_path / "nope"), *paths]):
        compare_with_mit(mit_probe, order, _QUERIES)


@pytest.mark.interop
@pytest.mark.parametrize(
    "text",
    [
        "[a]\ninclude /nonexistent/file\n",
        "[a]\nincludedir /nonexistent/dir\n",
        "[a]\ninclude {self}\n",
        "[a]\ninclude {bad}\n",
        "[a]\ninclude {good} \n",  # trailing blanks belong to the file name
    ],
)
def test_include_errors_match_mit(mit_probe: Path, tmp_path: Path, text: str) -> None:
    (tmp_path / "bad").write_text("[a]\n oops\n")
    (tmp_path / "good").write_text("[a]\n a = 1\n")
    f = tmp_path / "k.conf"
    f.write_text(text.format(self=f, bad=tmp_path / "bad", good=tmp_path / "good"))
    assert mit_query(mit_probe, str(f), []) is None
    with pytest.raises(ConfigError):
        load_files([str(f)])


@pytest.mark.interop
def test_module_in_second_file_is_an_error_like_mit(mit_probe: Path, tmp_path: Path) -> None:
    a, b = _files(tmp_path, a="[a]\n a = 1\n", b="module x.so:y\n[a]\n a = 2\n")
    assert mit_query(mit_probe, f"{a}:{b}", []) is None
    with pytest.raises(ConfigError):
        load_files([a, b])


@pytest.mark.interop
@given(files=st.lists(st.tuples(_LINES, st.sampled_from(["\n", "\r\n"])), min_size=1, max_size=3))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_profiles_match_mit(
    mit_probe: Path, tmp_path_factory: pytest.TempPathFactory, files: list
) -> None:
    d = tmp_path_factory.mktemp("gen")
    paths = []
    for i, (lines, eol) in enumerate(files):
        (d / f"f{i}").write_bytes(eol.join(lines).encode("utf-8"))
        paths.append(str(d / f"f{i}"))
    compare_with_mit(mit_probe, paths, _QUERIES)


_VALUE_CHARS = "0123456789xXabcdefABCDEF+- yesnoYtrufalsi"


@pytest.mark.interop
@given(st.lists(st.text(_VALUE_CHARS, max_size=12), min_size=1, max_size=20))
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_booleans_and_integers_match_mit(
    mit_probe: Path, tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    f = tmp_path_factory.mktemp("vals") / "v.conf"
    f.write_text("[v]\n" + "".join(f' v{i} = "{v}"\n' for i, v in enumerate(values)))
    queries = [(op, "v", f"v{i}") for i in range(len(values)) for op in "BI"]
    compare_with_mit(mit_probe, [str(f)], queries)


@pytest.mark.interop
@given(
    st.lists(
        st.one_of(
            st.text("0123456789dhms:- \t\n\r\x0bx", max_size=14),
            st.from_regex(r"\A-?[0-9]{1,11}[dhms]( ?-?[0-9]{1,6}[hms]){0,3}\Z"),
            st.from_regex(r"\A-?[0-9]{1,4}(-[0-9]{1,3})?(:[0-9]{1,3}){1,2}\Z"),
        ),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
def test_durations_match_mit(
    mit_probe: Path, tmp_path_factory: pytest.TempPathFactory, durations: list[str]
) -> None:
    empty = tmp_path_factory.mktemp("dur") / "empty.conf"
    empty.write_text("")
    queries = [("D", s) for s in durations]
    assert our_answers(Profile(), queries) == mit_query(mit_probe, str(empty), queries)


@pytest.mark.interop
def test_default_names_and_token_expansion_match_mit(mit_probe: Path, tmp_path: Path) -> None:
    def mit_names(conf: str, extra_env: dict[str, str]) -> dict[str, str]:
        (tmp_path / "ctx.conf").write_text(conf)
        env = {"KRB5_CONFIG": str(tmp_path / "ctx.conf"), "PATH": "/usr/bin", **extra_env}
        out = subprocess.run(
            [str(mit_probe), "-ctx"], capture_output=True, env=env, check=True, text=True
        ).stdout
        return {
            k: bytes.fromhex(v).decode()
            for k, v in (ln.split("\t") for ln in out.split("\n") if ln)
        }

    env = {"TMPDIR": str(tmp_path)}
    assert mit_names("", env) == {
        "CC": expand_path_tokens(DEFAULT_CCACHE_NAME, env=env),
        "KT": expand_path_tokens(DEFAULT_KEYTAB_NAME, env=env),
        "CKT": expand_path_tokens(DEFAULT_CLIENT_KEYTAB_NAME, env=env),
    }
    tokens = "%{uid}/%{euid}/%{USERID}/%{TEMP}/%{username}/%{LIBDIR}/%{BINDIR}/%{SBINDIR}"
    conf = (
        f"[libdefaults]\n default_ccache_name = FILE:/x/{tokens}/%{{null}}/%{{u}}/%%/e\n"
        " default_keytab_name = %{TEMP}/kt\n default_client_keytab_name = %{e}/ckt\n"
    )
    p = parse_text(conf)
    assert mit_names(conf, env) == {
        "CC": expand_path_tokens(default_ccache_name(p), env=env),
        "KT": expand_path_tokens(default_keytab_name(p), env=env),
        "CKT": "FILE:" + expand_path_tokens(default_client_keytab_name(p), env=env),
    }
    assert pwd.getpwuid(os.geteuid()).pw_name in expand_path_tokens("%{username}")
