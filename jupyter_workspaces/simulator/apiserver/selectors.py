"""Label selectors (equality and set-based) and field selectors, parsed and matched."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jupyter_workspaces.simulator.apiserver.failures import ApiError, bad_request
from jupyter_workspaces.simulator.apiserver.resources import Resource

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[A-Za-z0-9._-]*"
_EXISTS = re.compile(rf"^\s*(!?)\s*({_KEY})\s*$")
_SET = re.compile(rf"^\s*({_KEY})\s+(in|notin)\s*\((.*)\)\s*$")
_EQUALITY = re.compile(rf"^\s*({_KEY})\s*(==|=|!=)\s*({_VALUE})\s*$")
_FIELD = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" also match objects without the key.
        return not present or labels[self.key] not in self.values


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the `labelSelector` query parameter; raise a 400 naming the bad clause."""
    if not text or not text.strip():
        return LabelSelector()
    requirements = []
    for part in _split_top_level(text):
        requirements.append(_parse_requirement(part, text))
    return LabelSelector(tuple(requirements))


_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_NAME_PART_TEXT = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)


def _checked_key(key: str) -> str:
    """The key, or a 400 worded as a real server's for a key it would not accept."""
    name = key.rsplit("/", 1)[-1]
    if len(name) > 63 or not _NAME_PART.match(name):
        raise bad_request(
            f'unable to parse requirement: invalid label key "{key}": {_NAME_PART_TEXT}'
        )
    return key


def _parse_requirement(part: str, whole: str) -> Requirement:
    if match := _SET.match(part):
        values = frozenset(v.strip() for v in match.group(3).split(",") if v.strip())
        return Requirement(_checked_key(match.group(1)), match.group(2), values)
    if match := _EQUALITY.match(part):
        operator = "!=" if match.group(2) == "!=" else "="
        return Requirement(_checked_key(match.group(1)), operator, frozenset([match.group(3)]))
    if match := _EXISTS.match(part):
        return Requirement(_checked_key(match.group(2)), "!" if match.group(1) else "exists")
    raise bad_request(f"unable to parse requirement: {part.strip()!r} in label selector {whole!r}")


def selector_from_spec(spec: Mapping[str, Any] | None) -> LabelSelector:
    """A selector from a `matchLabels`/`matchExpressions` object (a StatefulSet's)."""
    if not spec:
        return LabelSelector()
    requirements = [
        Requirement(key, "=", frozenset([value]))
        for key, value in sorted((spec.get("matchLabels") or {}).items())
    ]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expression in spec.get("matchExpressions") or []:
        operator = operators.get(expression.get("operator", ""), "in")
        values = frozenset(expression.get("values") or [])
        requirements.append(Requirement(expression.get("key", ""), operator, values))
    return LabelSelector(tuple(requirements))


def format_selector(selector: LabelSelector) -> str:
    """The string form, as a Scale's `status.selector` shows it."""
    parts = []
    for requirement in selector.requirements:
        values = ",".join(sorted(requirement.values))
        if requirement.operator in ("=", "!="):
            parts.append(f"{requirement.key}{requirement.operator}{values}")
        elif requirement.operator == "exists":
            parts.append(requirement.key)
        elif requirement.operator == "!":
            parts.append(f"!{requirement.key}")
        else:
            parts.append(f"{requirement.key} {requirement.operator} ({values})")
    return ",".join(parts)


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: (label, operator, value) terms, all of which must hold."""

    terms: tuple[tuple[str, str, str], ...] = ()

    def matches(self, fields: Mapping[str, str]) -> bool:
        for label, operator, value in self.terms:
            equal = fields.get(label, "") == value
            if equal != (operator == "="):
                return False
        return True


def parse_field_selector(text: str | None, resource: Resource) -> FieldSelector:
    """Parse `fieldSelector` for `resource`; labels it does not support get a 400."""
    if not text or not text.strip():
        return FieldSelector()
    terms = []
    for part in text.split(","):
        match = _FIELD.match(part)
        if match is None:
            raise bad_request(f"invalid selector: {text!r}; can't understand {part!r}")
        label, operator, value = match.groups()
        _check_field_label(label, resource)
        terms.append((label, "!=" if operator == "!=" else "=", value))
    return FieldSelector(tuple(terms))


def _check_field_label(label: str, resource: Resource) -> None:
    if label in ("metadata.name", "metadata.namespace") or label in resource.field_labels:
        return
    error: ApiError
    if resource.core_field_wording:
        error = bad_request(f"field label not supported: {label}")
    else:
        error = bad_request(
            f'"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"'
        )
    raise error
