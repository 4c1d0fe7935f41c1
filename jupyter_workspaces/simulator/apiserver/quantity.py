"""Kubernetes resource quantities ("500m", "2Gi", "1"): parsing, adding, canonical text.

Amounts are kept as whole nano-units (the finest a Kubernetes quantity resolves), so sums are
exact integer arithmetic; parsing is cached, since the same few strings recur everywhere.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

_NANO = 10**9
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_PATTERN = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$"
)


class QuantityError(ValueError):
    """Text that is not a quantity."""


@dataclass(frozen=True)
class Quantity:
    """An amount in nano-units, and whether it was written with binary (Ki, Mi, Gi) suffixes."""

    nanos: int
    binary: bool = False

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.nanos + other.nanos, self.binary or other.binary)

    def __str__(self) -> str:
        return format_quantity(self)


ZERO = Quantity(0)
ONE = Quantity(_NANO)


@functools.lru_cache(maxsize=4096)
def parse_quantity(text: str) -> Quantity:
    match = _PATTERN.match(text.strip())
    if match is None:
        raise QuantityError(
            f"quantity {text!r} is not valid: use a number with an optional suffix such as "
            "500m, 2, 1.5Gi or 10G"
        )
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as error:
        raise QuantityError(f"quantity {text!r} is not a number") from error
    suffix = match.group(2) or ""
    if suffix in _BINARY:
        amount, binary = number * _BINARY[suffix], True
    elif suffix in _DECIMAL:
        amount, binary = number.scaleb(_DECIMAL[suffix]), False
    else:
        amount, binary = number.scaleb(int(suffix[1:])), False
    # Finer than a nano rounds up, as Kubernetes does.
    nanos = int((amount * _NANO).to_integral_value(rounding=ROUND_CEILING))
    return Quantity(nanos, binary)


def format_quantity(quantity: Quantity) -> str:
    """Canonical text: the largest suffix that leaves a whole number, as Kubernetes prints."""
    nanos = quantity.nanos
    if nanos == 0:
        return "0"
    sign = "-" if nanos < 0 else ""
    nanos = abs(nanos)
    if quantity.binary and nanos % _NANO == 0:
        whole = nanos // _NANO
        for suffix, factor in reversed(_BINARY.items()):
            if whole >= factor and whole % factor == 0:
                return f"{sign}{whole // factor}{suffix}"
        return f"{sign}{whole}"
    for suffix, exponent in sorted(_DECIMAL.items(), key=lambda item: -item[1]):
        unit = 10 ** (exponent + 9)
        if nanos % unit == 0:
            return f"{sign}{nanos // unit}{suffix}"
    return f"{sign}{nanos}n"
