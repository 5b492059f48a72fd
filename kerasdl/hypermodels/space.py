"""One tunable hyperparameter, declared once: its range, its domain, its default.

A `Param` is the declarative half of a search space. Its `default` is the untuned
model's value, so `hypermodel.build(keras_tuner.HyperParameters())` builds exactly the
untuned model. A user narrows or widens the search with an override
(`Param.override`): a `(low, high)` range for a number, a list of choices for a
categorical entry, or a single value to fix it; every override is checked against
the parameter's domain and reversed ranges are refused, naming the argument.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kerasdl._checks import is_number

KINDS = ("int", "float", "choice", "bool")


@dataclass(frozen=True)
class Param:
    """A hyperparameter of a search space.

    Args:
        kind: `"int"` or `"float"` (a range `low..high`), `"choice"` (one of
            `values`) or `"bool"`.
        default: The untuned model's value (clipped into a user's range, or the
            first choice, when an override leaves it out).
        low, high: The searched range of an `"int"`/`"float"` entry (equal: fixed).
        sampling: `"linear"` or `"log"` (ranges only; log needs `low > 0`).
        values: The choices of a `"choice"`/`"bool"` entry.
        minimum, maximum: The domain every value must lie in (None: unbounded);
            `maximum_open` excludes `maximum` itself (e.g. dropout < 1).
        allowed: For a categorical entry, the only values accepted (None: any
            value of the default's type within the domain).
    """

    kind: str
    default: object
    low: float | None = None
    high: float | None = None
    sampling: str = "linear"
    values: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    maximum_open: bool = False
    allowed: tuple | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; received {self.kind!r}.")

    # ------------------------------------------------------------------ checks

    def _domain(self) -> str:
        if self.allowed is not None:
            return f"one of {list(self.allowed)}"
        if self.kind == "bool":
            return "True or False"
        low = "-inf" if self.minimum is None else f"{self.minimum:g}"
        high = "inf" if self.maximum is None else f"{self.maximum:g}"
        kind = "an integer" if self.kind == "int" or self._int_choices() else "a number"
        return f"{kind} in [{low}, {high}{')' if self.maximum_open else ']'}"

    def _int_choices(self) -> bool:
        return self.kind == "choice" and is_number(
            self.default, integer=True, finite=True
        )

    def valid(self, value) -> bool:
        """Whether one value lies in the domain."""
        if self.allowed is not None:
            return any(value == a and type(value) is type(a) for a in self.allowed)
        if self.kind == "bool":
            return isinstance(value, bool)
        integer = self.kind == "int" or self._int_choices()
        if not is_number(value, integer=integer, finite=True):
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        if self.maximum is not None and (
            value >= self.maximum if self.maximum_open else value > self.maximum
        ):
            return False
        return True

    def override(self, name: str, value) -> Param:
        """A copy searching `value` instead: a range, choices, or one fixed value.

        Args:
            name: The hyperparameter's name (for the error message).
            value: For `"int"`/`"float"`: `(low, high)` or one number. For
                `"choice"`/`"bool"`: a list/tuple of choices or one value.

        Returns:
            The new `Param`.

        Raises:
            ValueError: a reversed range, a value outside the domain, an empty or
                repeated list of choices. The message names `name` and `value`.
        """
        received = f"received {name}={value!r}."
        if self.kind in ("int", "float"):
            if isinstance(value, (tuple, list)):
                if len(value) != 2:
                    raise ValueError(
                        f"`{name}` takes one value or a (low, high) range; {received}"
                    )
                low, high = value
            else:
                low = high = value
            for bound in (low, high):
                if not self.valid(bound):
                    raise ValueError(f"`{name}` must be {self._domain()}; {received}")
            if low > high:
                raise ValueError(
                    f"`{name}` range must be (low, high) with low <= high; {received}"
                )
            if self.sampling == "log" and low <= 0:
                raise ValueError(
                    f"`{name}` is sampled on a log scale: its range must be > 0; "
                    f"{received}"
                )
            default = min(max(self.default, low), high)
            return replace(self, low=low, high=high, default=default)
        choices = tuple(value) if isinstance(value, (tuple, list)) else (value,)
        if not choices:
            raise ValueError(f"`{name}` needs at least one choice; {received}")
        for choice in choices:
            if not self.valid(choice):
                raise ValueError(
                    f"`{name}` choices must each be {self._domain()}; {received}"
                )
        if len(set(choices)) != len(choices):
            raise ValueError(f"`{name}` choices must be distinct; {received}")
        default = self.default if self.default in choices else choices[0]
        return replace(self, values=choices, default=default)

    # ---------------------------------------------------------------- declare

    def declare(self, hp, name: str):
        """Register this entry with a `keras_tuner.HyperParameters` and return the
        value of the current trial (the default for a fresh `HyperParameters`)."""
        if self.kind in ("int", "float"):
            if self.low == self.high:
                fixed = int(self.low) if self.kind == "int" else float(self.low)
                return hp.Fixed(name, fixed)
            if self.kind == "int":
                return hp.Int(
                    name,
                    int(self.low),
                    int(self.high),
                    sampling=self.sampling,
                    default=int(self.default),
                )
            return hp.Float(
                name,
                float(self.low),
                float(self.high),
                sampling=self.sampling,
                default=float(self.default),
            )
        if len(self.values) == 1:
            return hp.Fixed(name, self.values[0])
        if self.kind == "bool" and set(self.values) == {True, False}:
            return hp.Boolean(name, default=self.default)
        return hp.Choice(name, list(self.values), default=self.default)

    def describe(self) -> str:
        """One line for a listing: the range or the choices, and the default."""
        if self.kind in ("int", "float"):
            if self.low == self.high:
                return f"fixed {self.low:g}"
            scale = " (log)" if self.sampling == "log" else ""
            return f"{self.low:g}..{self.high:g}{scale}, default {self.default:g}"
        if len(self.values) == 1:
            return f"fixed {self.values[0]!r}"
        return f"{list(self.values)}, default {self.default!r}"


def int_range(default, low, high, *, minimum=1, sampling="linear") -> Param:
    """An integer range entry."""
    return Param("int", default, low=low, high=high, sampling=sampling, minimum=minimum)


def float_range(
    default, low, high, *, minimum=0.0, maximum=None, maximum_open=False, log=False
) -> Param:
    """A float range entry."""
    return Param(
        "float",
        default,
        low=low,
        high=high,
        sampling="log" if log else "linear",
        minimum=minimum,
        maximum=maximum,
        maximum_open=maximum_open,
    )


def choice(default, values, *, allowed=None, minimum=None) -> Param:
    """A categorical entry (strings: `allowed` lists the accepted values)."""
    return Param(
        "choice", default, values=tuple(values), allowed=allowed, minimum=minimum
    )


def boolean(default) -> Param:
    """A True/False entry, both searched."""
    return Param("bool", default, values=(True, False))
