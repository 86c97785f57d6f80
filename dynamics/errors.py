"""The one exception the launcher turns into a one-line message and exit code 2."""


class ConfigError(ValueError):
    """A config value, name or combination that cannot be run; the message says why."""


def check_choice(what: str, name, choices) -> None:
    """Fails unless `name` is one of `choices`, listing them."""
    try:
        known = name in choices
    except TypeError:  # an unhashable value (a list, a dict) is no valid name either
        known = False
    if not known:
        raise ConfigError(f"unknown {what} {name!r}; valid choices: {', '.join(sorted(map(str, choices)))}")


def check_keys(what: str, given, expected) -> None:
    """Fails unless `given` names exactly the keys in `expected`."""
    given, expected = set(given), set(expected)
    if given != expected:
        parts = []
        if given - expected:
            parts.append(f"unknown keys {sorted(given - expected)}")
        if expected - given:
            parts.append(f"missing keys {sorted(expected - given)}")
        raise ConfigError(f"{what}: {'; '.join(parts)}; expected exactly {sorted(expected)}")


def check_range(name: str, value, low=None, high=None, *, low_open=False) -> None:
    """Fails unless `value` is a finite number in [low, high] (or (low, high] with low_open)."""
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ConfigError(f"{name} must be {bound}, got {value!r}")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be <= {high}, got {value!r}")


def fail(message: str) -> None:
    """For launchers: the message on one line of stderr, then exit code 2."""
    import sys

    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)
