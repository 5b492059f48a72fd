"""Argument checks shared across kerasdl: one message for each mistake, naming the
argument and the value received. NumPy only (no Keras), so keras-free modules such as
`kerasdl.rl.q_learning` can use them."""

from __future__ import annotations

import json
import math
import numbers
import zipfile
from pathlib import Path


def is_number(value, *, integer=False, finite=False) -> bool:
    """Whether `value` is a real number (an integer when `integer`; finite when
    `finite`) and not a bool. NumPy scalars count."""
    if isinstance(value, bool):
        return False
    if not isinstance(value, numbers.Integral if integer else numbers.Real):
        return False
    return not finite or math.isfinite(value)


def check_bool(name, value) -> bool:
    """Return `value` if it is True or False; else ValueError."""
    if not isinstance(value, bool):
        raise ValueError(f"`{name}` must be True or False; received {name}={value!r}.")
    return value


def check_choice(name, value, choices):
    """Return `value` if it is one of `choices`; else ValueError listing them."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {tuple(choices)}; received {name}={value!r}."
        )
    return value


def check_int(name, value, minimum=1, allow_none=False):
    """Return `value` as an int >= `minimum` (or None when allowed); else ValueError."""
    if value is None and allow_none:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}; received {name}={value!r}."
        )
    return int(value)


def check_float(
    name, value, low=-math.inf, high=math.inf, low_open=False, high_open=False
):
    """Return `value` as a finite float in the interval from `low` to `high` (each end
    closed unless `low_open`/`high_open`); else ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or (value <= low if low_open else value < low)
        or (value >= high if high_open else value > high)
    ):
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        raise ValueError(
            f"`{name}` must be a number in {interval}; received {name}={value!r}."
        )
    return float(value)


def check_sample_shape(input_shape, name="input_shape"):
    """The shape of one sample (no batch axis) as a tuple of positive ints.

    An int is taken as a 1-D shape. Anything else raises a ValueError naming `name`.
    """
    if isinstance(input_shape, int) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) == 0
        or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1
            for d in input_shape
        )
    ):
        raise ValueError(
            f"`{name}` must be a non-empty tuple of positive integers (one sample, "
            f"no batch axis); received {name}={input_shape!r}."
        )
    return tuple(int(d) for d in input_shape)


def check_image_shape(
    name, value, *, min_size=None, divisible_by=None, channels=None, reason=None
):
    """Return `value`, the shape of one image, as `(height, width, channels)` of
    positive ints; else ValueError naming `name` and the value received.

    `min_size`: height and width must be at least this; `divisible_by`: height and
    width must be multiples of it; `channels`: the exact channel count. `reason` (a
    sentence) is added to those errors to say why the model needs it.
    """
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 3
        or not all(is_number(d, integer=True) and d >= 1 for d in value)
    ):
        raise ValueError(
            f"`{name}` must be (height, width, channels) of positive integers; "
            f"received {name}={value!r}."
        )
    shape = tuple(int(d) for d in value)
    height, width, depth = shape
    because = f" {reason}" if reason else ""
    if min_size is not None and min(height, width) < min_size:
        raise ValueError(
            f"`{name}` is too small: height and width must be at least "
            f"{min_size}x{min_size}; received {name}={shape!r}.{because}"
        )
    if divisible_by is not None and (height % divisible_by or width % divisible_by):
        raise ValueError(
            f"`{name}`: height and width must be multiples of {divisible_by}; "
            f"received {name}={shape!r}.{because}"
        )
    if channels is not None and depth != channels:
        raise ValueError(
            f"`{name}` must have {channels} channel(s); received {name}={shape!r}."
        )
    return shape


def check_transformer_args(arguments) -> dict:
    """The arguments every transformer stack takes, checked once and read by name
    from `arguments` (a model constructor's `locals()`): `hidden_dim`, `num_layers`
    and `num_heads` ints >= 1 with `hidden_dim` divisible by `num_heads`;
    `intermediate_dim` an int >= 1 or None; `dropout` in [0, 1); and
    `layer_norm_epsilon` > 0 when the model takes one. Returns them checked, in
    that order, in a dict."""
    hidden_dim = check_int("hidden_dim", arguments["hidden_dim"])
    num_heads = check_int("num_heads", arguments["num_heads"])
    checked = {
        "hidden_dim": hidden_dim,
        "num_layers": check_int("num_layers", arguments["num_layers"]),
        "num_heads": num_heads,
        "intermediate_dim": check_int(
            "intermediate_dim", arguments["intermediate_dim"], allow_none=True
        ),
        "dropout": check_float(
            "dropout", arguments["dropout"], low=0.0, high=1.0, high_open=True
        ),
    }
    if hidden_dim % num_heads:
        raise ValueError(
            "`hidden_dim` must be divisible by `num_heads`; received "
            f"hidden_dim={hidden_dim} and num_heads={num_heads}."
        )
    if "layer_norm_epsilon" in arguments:
        checked["layer_norm_epsilon"] = check_float(
            "layer_norm_epsilon",
            arguments["layer_norm_epsilon"],
            low=0.0,
            low_open=True,
        )
    return checked


def check_keras_file(path, name="path"):
    """The class name of the model in the `.keras` file `path`, read from the
    archive's config.json without loading it; a one-line ValueError naming `name`
    when `path` is not such a file."""
    path = Path(path)
    where = f"{name} {str(path)!r}"
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{where} is not a .keras model file: a .keras file is a zip archive "
            f"(as model.save writes it), and this one ({path.stat().st_size} bytes) "
            "is not."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except KeyError:
        raise ValueError(
            f"{where} is a zip archive without config.json: not a .keras model file."
        ) from None
    except (ValueError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{where}: its config.json is unreadable ({error}); not a .keras model "
            "file."
        ) from error
    if not isinstance(config, dict):
        raise ValueError(
            f"{where}: its config.json holds a {type(config).__name__}, not a model "
            "config; not a .keras model file."
        )
    return str(config.get("class_name"))
