"""Kubernetes resource quantities ("500m", "2Gi", "1"): parsing, adding, canonical text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_PATTERN = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$"
)


class QuantityError(ValueError):
    """Text that is not a quantity."""


@dataclass(frozen=True)
class Quantity:
    """An exact amount, and whether it was written with binary (Ki, Mi, Gi) suffixes."""

    value: Fraction
    binary: bool = False

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.value + other.value, self.binary or other.binary)

    def __sub__(self, other: Quantity) -> Quantity:
        return Quantity(self.value - other.value, self.binary or other.binary)

    def __str__(self) -> str:
        return format_quantity(self)


ZERO = Quantity(Fraction(0))


def parse_quantity(text: str) -> Quantity:
    match = _PATTERN.match(text.strip())
    if match is None:
        raise QuantityError(
            f"quantity {text!r} is not valid: use a number with an optional suffix such as "
            "500m, 2, 1.5Gi or 10G"
        )
    number, suffix = Fraction(match.group(1)), match.group(2) or ""
    if suffix in _BINARY:
        return Quantity(number * _BINARY[suffix], binary=True)
    if suffix in _DECIMAL:
        return Quantity(number * Fraction(10) ** _DECIMAL[suffix])
    return Quantity(number * Fraction(10) ** int(suffix[1:]))


def format_quantity(quantity: Quantity) -> str:
    """Canonical text: the largest suffix that leaves a whole number, as Kubernetes prints."""
    value = quantity.value
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if quantity.binary and value.denominator == 1 and value >= 1024:
        for suffix, factor in reversed(_BINARY.items()):
            if value % factor == 0:
                return f"{sign}{value // factor}{suffix}"
    if quantity.binary and value.denominator == 1:
        return f"{sign}{value}"
    for suffix, exponent in sorted(_DECIMAL.items(), key=lambda item: -item[1]):
        scaled = value / Fraction(10) ** exponent
        if scaled.denominator == 1:
            return f"{sign}{scaled.numerator}{suffix}"
    # Finer than a nano: round up to whole nanos, as Kubernetes does.
    nanos = -(-value.numerator * 10**9 // value.denominator)
    return f"{sign}{nanos}n"
