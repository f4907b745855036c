"""Reading typed settings from environment text, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(ValueError):
    """A source's setting is invalid. The message names the variable (never a secret's value):
    the pipeline reports it, skips that source and runs the others."""


def positive_float(name: str, value: str | None, default: float) -> float:
    number = non_negative_float(name, value, default)
    if number <= 0:
        raise ConfigError(f"{name} must be positive, got {value!r}")
    return number


def non_negative_float(name: str, value: str | None, default: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if number < 0 or number != number:  # negative, or NaN
        raise ConfigError(f"{name} must not be negative, got {value!r}")
    return number


def integer(name: str, value: str | None, default: int) -> int:
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from None


def boolean(name: str, value: str | None, default: bool) -> bool:
    if value is None or not value.strip():
        return default
    text = value.strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def comma_list(value: str | None, default: Sequence[str]) -> tuple[str, ...]:
    if value is None or not value.strip():
        return tuple(default)
    return tuple(item.strip() for item in value.split(",") if item.strip())
