"""Reading typed settings from environment text, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Sequence


def positive_float(name: str, value: str | None, default: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {value!r}") from error
    if number <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return number


def integer(name: str, value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ValueError(f"{name} must be an integer, got {value!r}") from error


def comma_list(value: str | None, default: Sequence[str]) -> tuple[str, ...]:
    if value is None or not value.strip():
        return tuple(default)
    return tuple(item.strip() for item in value.split(",") if item.strip())
