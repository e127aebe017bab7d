"""The MIT profile syntax (krb5.conf, kdc.conf), parsed as MIT krb5 1.20 parses it.

A transcription of the rules of ``src/util/profile/prof_parse.c`` (``parse_file``,
``parse_line``, ``parse_std_line``), not of its code:

- Input is read with ``fgets`` into a 2048-byte buffer, so a line longer than 2047 bytes is
  seen as several lines; a NUL byte ends the line's text.
- Until the first line that starts (column 0) with ``[``, lines are ignored, except
  ``include``/``includedir``/``module`` directives, which are recognised only at column 0.
- Blank lines and lines whose first non-blank character is ``#`` or ``;`` are comments.
- ``[name]`` (``*`` may follow: final); nothing but blanks after it.  Only at top level.
- ``tag = value``: the tag ends at the first blank and only blanks may follow it before ``=``;
  a ``*`` in the tag truncates it and marks the node final.  A value starting with ``"`` is
  read up to the next unescaped ``"`` with ``\\n \\t \\b`` escapes (any other escaped
  character stands for itself); otherwise trailing blanks are dropped.
- ``tag = {`` (or ``tag =`` and ``{`` on the next line) opens a subsection; ``}`` closes it,
  ``}*`` also marks it final.  Unclosed subsections at end of file are not an error.
- ``include FILE`` / ``includedir DIR`` parse other files into the same tree, each with a
  fresh syntactic state; includedir takes, in ``strcmp`` order, the names that end in
  ``.conf`` or consist only of ASCII letters, digits, ``-`` and ``_``, and never dotfiles.
  A file or directory that cannot be read is an error.

Sans-I/O: the parser takes bytes, and included files come from an injected
:class:`IncludeSource`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Protocol

from ...errors import ConfigError
from ._tree import FileTree, Node, to_text

_BUF_SIZE = 2048  # prof_parse.c BUF_SIZE: fgets reads at most 2047 bytes per call
_C_SPACE = b" \t\n\v\f\r"
#: Include nesting limit.  MIT has none and fails only when it runs out of file descriptors
#: (PROF_FAIL_INCLUDE_FILE); a limit gives the same outcome (an error) for include loops.
MAX_INCLUDE_DEPTH = 64


class IncludeSource(Protocol):
    """Where ``include``/``includedir`` read from (the file system, or a test double)."""

    def read_file(self, path: bytes) -> bytes:
        """The file's bytes; raise OSError if it cannot be opened (a directory reads empty)."""
        ...

    def list_dir(self, path: bytes) -> list[bytes]:
        """Entry names of a directory; raise OSError if it cannot be listed."""
        ...


class NoIncludes:
    """An :class:`IncludeSource` that refuses every include (for untrusted text)."""

    def read_file(self, path: bytes) -> bytes:
        raise PermissionError(f"includes are disabled: {path!r}")

    def list_dir(self, path: bytes) -> list[bytes]:
        raise PermissionError(f"includes are disabled: {path!r}")


class _State(enum.Enum):
    INIT_COMMENT = 1
    STD_LINE = 2
    GET_OBRACE = 3


@dataclass(slots=True)
class _ParseState:
    root: Node
    source: str
    state: _State = _State.INIT_COMMENT
    group_level: int = 0
    current: Node | None = None
    line: int = 0


@dataclass(slots=True)
class _Context:
    includes: IncludeSource
    allow_module: bool
    module: list[str] = field(default_factory=list)


class _Module(Exception):
    """Internal: a ``module`` directive ended the file (MIT then loads the module instead)."""


def _error(st: _ParseState, message: str) -> ConfigError:
    err = ConfigError(f"line {st.line}: {message}", source=st.source)
    err.line = st.line  # type: ignore[attr-defined]  # for callers that want the number
    return err


def _fgets_lines(data: bytes) -> list[tuple[int, bytes]]:
    """``(line number, text)`` pieces as successive ``fgets`` calls return them."""
    pieces: list[tuple[int, bytes]] = []
    lineno, pos = 1, 0
    while pos < len(data):
        nl = data.find(b"\n", pos, pos + _BUF_SIZE - 1)
        end = nl + 1 if nl >= 0 else min(pos + _BUF_SIZE - 1, len(data))
        # NB(mit): the C code treats the buffer as a string, so it stops at a NUL byte.
        pieces.append((lineno, data[pos:end].split(b"\0", 1)[0]))
        lineno += nl >= 0
        pos = end
    return pieces


def _valid_include_name(name: bytes) -> bool:
    """``valid_name``: no dotfiles; ``*.conf``, or only ASCII alnum, ``-`` and ``_``.

    This keeps editor backups and package-manager leftovers (``x~``, ``x.rpmsave``) out.
    """
    if name.startswith(b"."):
        return False
    if name.endswith(b".conf"):
        return True
    return all(c in b"-_" or (c < 0x80 and chr(c).isalnum()) for c in name)


def _parse_quoted(data: bytes) -> bytes:
    """``parse_quoted_string``: up to the next unescaped quote, escapes \\n \\t \\b."""
    out = bytearray()
    i = 0
    while i < len(data) and data[i] != 0x22:
        c = data[i]
        if c == 0x5C and i + 1 < len(data):
            i += 1
            c = {0x6E: 0x0A, 0x74: 0x09, 0x62: 0x08}.get(data[i], data[i])
        out.append(c)
        i += 1
    return bytes(out)


def _parse_section_header(cp: bytes, st: _ParseState) -> None:
    if st.group_level > 0:
        raise _error(st, "profile section header not at top level")
    close = cp.find(b"]", 1)
    if close < 0:
        raise _error(st, "syntax error in profile section header")
    st.current = st.root.section(cp[1:close])
    rest = cp[close + 1 :]
    if rest.startswith(b"*"):
        st.current.final = True
        rest = rest[1:]
    if rest.lstrip(_C_SPACE):
        raise _error(st, "syntax error in profile section header")


def _parse_relation(cp: bytes, st: _ParseState) -> None:
    eq = cp.find(b"=")
    if eq <= 0:
        raise _error(st, "syntax error in profile relation")
    tag = cp[:eq]
    blank = next((i for i, c in enumerate(tag) if c in _C_SPACE), -1)
    if blank >= 0:
        if tag[blank:].strip(_C_SPACE):
            raise _error(st, "syntax error in profile relation")
        tag = tag[:blank]
    value = cp[eq + 1 :].lstrip(_C_SPACE)
    final = b"*" in tag
    tag = tag.split(b"*", 1)[0]
    assert st.current is not None  # a relation is parsed only after a section header
    if value.startswith(b'"'):
        node = st.current.add(tag, _parse_quoted(value[1:]))
    elif not value or (value.startswith(b"{") and not value[1:].lstrip(_C_SPACE)):
        if not value:
            st.state = _State.GET_OBRACE
        node = st.current.section(tag)
        st.current = node
        st.group_level += 1
    else:
        node = st.current.add(tag, value.rstrip(_C_SPACE))
    if final:
        node.final = True


def _parse_std_line(line: bytes, st: _ParseState) -> None:
    cp = line.lstrip(_C_SPACE)
    if cp[:1] in (b";", b"#"):
        return
    cp = cp.rstrip(b"\r\n")
    if not cp:
        return
    if cp[0] == 0x5B:  # [
        _parse_section_header(cp, st)
    elif cp[0] == 0x7D:  # }
        if st.group_level == 0:
            raise _error(st, "extra closing brace in profile")
        assert st.current is not None and st.current.parent is not None
        if cp[1:2] == b"*":
            st.current.final = True
        st.current = st.current.parent
        st.group_level -= 1
    else:
        _parse_relation(cp, st)


def _directive(line: bytes, word: bytes) -> bytes | None:
    """The argument of ``word ARG`` at column 0 (blanks skipped, CR/LF stripped), or None."""
    n = len(word)
    if line.startswith(word) and len(line) > n and line[n] in _C_SPACE:
        return line[n:].lstrip(_C_SPACE).rstrip(b"\r\n")
    return None


def _parse_line(line: bytes, st: _ParseState, ctx: _Context, depth: int) -> None:
    if (arg := _directive(line, b"include")) is not None:
        _include_file(arg, st, ctx, depth)
        return
    if (arg := _directive(line, b"includedir")) is not None:
        _include_dir(arg, st, ctx, depth)
        return
    if st.state is _State.INIT_COMMENT:
        if (arg := _directive(line, b"module")) is not None:
            if not ctx.allow_module:
                raise _error(st, "module directive is only allowed in the first profile file")
            ctx.module.append(to_text(arg))
            raise _Module
        if not line.startswith(b"["):
            return
        st.state = _State.STD_LINE
    if st.state is _State.GET_OBRACE:
        if not line.lstrip(_C_SPACE).startswith(b"{"):
            raise _error(st, "missing open brace in profile")
        st.state = _State.STD_LINE
        return  # NB(mit): the rest of the "{" line is ignored
    _parse_std_line(line, st)


def _parse_into(data: bytes, st: _ParseState, ctx: _Context, depth: int) -> None:
    for lineno, line in _fgets_lines(data):
        st.line = lineno
        if line:
            _parse_line(line, st, ctx, depth)


def _include_file(path: bytes, st: _ParseState, ctx: _Context, depth: int) -> None:
    name = to_text(path)
    if depth >= MAX_INCLUDE_DEPTH:
        raise _error(st, f"includes nested too deeply at {name!r} (include loop?)")
    try:
        data = ctx.includes.read_file(path)
    except OSError as exc:
        raise _error(st, f"included profile file {name!r} could not be read ({exc})") from None
    # Each included file starts a fresh syntactic state on the shared root (MIT
    # parse_include_file); a module directive there is an ordinary error.
    inner = _ParseState(root=st.root, source=name)
    _parse_into(data, inner, _Context(ctx.includes, False, ctx.module), depth + 1)


def _include_dir(path: bytes, st: _ParseState, ctx: _Context, depth: int) -> None:
    try:
        names = sorted(ctx.includes.list_dir(path))
    except OSError as exc:
        msg = f"included profile directory {to_text(path)!r} could not be read ({exc})"
        raise _error(st, msg) from None
    for entry in names:
        if _valid_include_name(entry):
            _include_file(path + b"/" + entry, st, ctx, depth)


def parse_tree(
    data: bytes, source: str, includes: IncludeSource, *, allow_module: bool = False
) -> tuple[FileTree, str | None]:
    """Parse one file's bytes into a tree; returns ``(tree, module spec or None)``.

    With ``allow_module`` (the first file of a profile, as in MIT), a ``module`` line before
    the first section ends the file and its argument is returned.
    """
    root = Node(b"(root)", None, None)
    ctx = _Context(includes, allow_module)
    try:
        _parse_into(data, _ParseState(root=root, source=source), ctx, 0)
    except _Module:
        return FileTree(source, root), ctx.module[0]
    return FileTree(source, root), None


def parse_dir_tree(path: bytes, source: str, includes: IncludeSource) -> FileTree:
    """``profile_process_directory``: a directory named as a profile file."""
    root = Node(b"(root)", None, None)
    st = _ParseState(root=root, source=source)
    _include_dir(path, st, _Context(includes, False), 0)
    return FileTree(source, root)
