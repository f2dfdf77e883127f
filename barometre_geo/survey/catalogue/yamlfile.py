"""YAML reading for the catalogue: line numbers, duplicate keys, checked fields.

The YAML is parsed with the line of every mapping and key kept, and duplicate
keys (which YAML silently overwrites) are refused. :class:`Entry` reads one
mapping field by field and raises errors naming the file, the line, the entry
and the field, saying what is wrong and how to fix it. The catalogue rules
themselves live in :mod:`barometre_geo.survey.catalogue.rules`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from ...errors import InputFileError, SchemaError, UnknownValueError

__all__ = ["Entry", "french_typography", "parse_yaml"]

_ID = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


# --------------------------------------------------------------------------- typography
def french_typography(text: str) -> str:
    """Apply French typography to a text read from the catalogue.

    Straight apostrophes become typographic ones, the space before ``? ! ; :``
    and inside guillemets becomes a no-break space, as does the space of
    ``36,9 %`` and ``1 000``. Runs of spaces and line breaks collapse.

    Examples
    --------
    >>> french_typography("Qu'en pensez-vous ?") == "Qu’en pensez-vous" + chr(0xA0) + "?"
    True
    """
    text = re.sub(r"[ \t\r\n]+", " ", text).strip().replace("'", "’")
    text = re.sub(r" ([?!;:%»])", "\u00a0\\1", text)
    text = text.replace("« ", "«\u00a0")
    return re.sub(r"(?<=\d) (?=\d{3}\b)", "\u00a0", text)


# --------------------------------------------------------------------------- YAML with lines
class _Map(dict):
    """A YAML mapping that remembers its line and the line of each key."""

    line = 0
    key_lines: dict


class _Seq(list):
    line = 0


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    path = ""


class _DuplicateKey(Exception):
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    out = _Map()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise _DuplicateKey(
                f"{loader.path}, line {line}, column {key_node.start_mark.column + 1}: key "
                f"{key!r} is not text. Quote it (YAML reads yes/no/on/off as booleans and "
                "digits as numbers)."
            )
        if key in out:
            raise _DuplicateKey(
                f"{loader.path}, line {line}: key {key!r} appears twice in the same entry "
                f"(first at line {out.key_lines[key]}). Keep only one of them: YAML would "
                "silently keep the last."
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    out = _Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def parse_yaml(path: Path) -> Any:
    """Read a YAML file with line numbers; refuse duplicate keys and non-UTF-8 text."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputFileError(
            f"{path}, line {line}: byte {exc.object[exc.start : exc.start + 1]!r} is not "
            "UTF-8. Save the catalogue as UTF-8 (it holds French text)."
        ) from exc
    loader = _Loader(text)
    loader.path = str(path)
    try:
        return loader.get_single_data()
    except _DuplicateKey as exc:
        raise SchemaError(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputFileError(
            f"{path}{where}: invalid YAML ({problem}). Fix the syntax there: indent with "
            "spaces, and put text holding ': ', '#' or starting with a quote between "
            "double quotes."
        ) from None
    finally:
        loader.dispose()


# --------------------------------------------------------------------------- field access
def _type_name(value: Any) -> str:
    for kind, name in ((dict, "a mapping"), (list, "a list"), (str, "text"), (bool, "a boolean")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


class Entry:
    """One YAML mapping being validated, with what to call it in errors."""

    def __init__(self, path: Path, node: Any, name: str, fields: tuple[str, ...]):
        self.path, self.name = path, name
        if not isinstance(node, dict):
            line = getattr(node, "line", "?")
            raise SchemaError(
                f"{path}, line {line}: {name} must be a mapping of fields, got "
                f"{_type_name(node)} {node!r}. Write it as `field: value` lines."
            )
        self.node = node
        if isinstance(node.get("id"), str) and " #" in name:
            self.name = f"{name.rsplit(' #', 1)[0]} {node['id']!r}"
        for key in node:
            if key not in fields:
                close = difflib.get_close_matches(key, fields, n=1)
                hint = f"Did you mean {close[0]!r}? " if close else ""
                self.fail(
                    key, f"unknown field {key!r}", f"{hint}Valid fields: {', '.join(fields)}."
                )

    def line(self, field: str | None = None) -> int:
        """Line of the entry (or of one of its fields) in the file."""
        lines = getattr(self.node, "key_lines", {})
        return lines.get(field, getattr(self.node, "line", 0))

    def where(self, field: str | None = None) -> str:
        """Return where a problem is: file, line, entry and field."""
        out = f"{self.path}, line {self.line(field)}, {self.name}"
        return f"{out}, field {field!r}" if field else out

    def fail(self, field: str | None, problem: str, fix: str, cls=SchemaError):
        """Raise ``cls`` with where, the problem and the fix."""
        raise cls(f"{self.where(field)}: {problem}. {fix}")

    def has(self, field: str) -> bool:
        """Whether the entry sets ``field``."""
        return field in self.node

    def get(self, field: str, kind: str, default: Any = ..., *, fix: str = "") -> Any:
        """Return a field checked against ``kind`` (text, int, number, bool, list, map, date)."""
        if field not in self.node:
            if default is not ...:
                return default
            self.fail(field, f"missing required field {field!r}", fix or f"Add `{field}: …`.")
        value = self.node[field]
        ok = {
            "text": lambda v: isinstance(v, str) and v.strip() != "",
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "bool": lambda v: isinstance(v, bool),
            "list": lambda v: isinstance(v, list),
            "map": lambda v: isinstance(v, dict),
            "date": lambda v: isinstance(v, dt.date),
        }[kind](value)
        if kind == "date" and isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                ok = False
        if not ok:
            expected = {
                "text": "a non-empty text",
                "int": "a whole number",
                "number": "a number",
                "bool": "true or false",
                "list": "a list such as [a, b]",
                "map": "a mapping of fields",
                "date": "a date written YYYY-MM-DD",
            }[kind]
            self.fail(field, f"expected {expected}, got {value!r}", fix or "Correct the value.")
        return value

    def text(self, field: str, default: Any = ...) -> Any:
        """Return a text field (typography normalised the French way)."""
        value = self.get(field, "text", default)
        return french_typography(value) if isinstance(value, str) else value

    def ids(self, field: str, default: Any = ...) -> tuple[str, ...] | Any:
        """Return a list of identifiers."""
        value = self.get(field, "list", default)
        if value is None or value is default:
            return value
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            self.fail(field, f"expected a list of ids, got {bad[0]!r}", "Write ids as text.")
        if len(set(value)) != len(value):
            dup = sorted({v for v in value if value.count(v) > 1})
            self.fail(field, f"repeats {', '.join(dup)}", "List each id once.")
        return tuple(value)

    def choice(self, field: str, valid: tuple[str, ...], default: Any = ...) -> Any:
        """Return a field whose value must be one of ``valid`` (listed in the error)."""
        value = self.get(field, "text", default)
        if value is default and default is not ...:
            return value
        if value not in valid:
            close = difflib.get_close_matches(str(value), valid, n=1)
            hint = f"Did you mean {close[0]!r}? " if close else ""
            self.fail(
                field,
                f"unknown value {value!r}",
                f"{hint}Valid values: {', '.join(valid)}.",
                UnknownValueError,
            )
        return value

    def subset(self, field: str, values, allowed, what: str) -> None:
        """Check that every value of ``values`` is in ``allowed``."""
        extra = [v for v in values if v not in allowed]
        if extra:
            self.fail(
                field,
                f"{', '.join(map(repr, extra))} not among {what}",
                f"Use only: {', '.join(allowed) or '(none)'}.",
            )

    def identifier(self, field: str = "id") -> str:
        """Return the entry's identifier (lower case, digits and ``_``)."""
        value = self.get(field, "text")
        if not _ID.match(value):
            self.fail(
                field,
                f"{value!r} is not a snake_case id",
                "Use lower-case ASCII letters, digits and single underscores, starting "
                "with a letter (e.g. cyber_pca).",
            )
        return value
