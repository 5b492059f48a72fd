"""Optimizers by name, built on `keras.optimizers` and their own arguments.

Clipping, decoupled weight decay and gradient accumulation are features of every
Keras optimizer (`clipnorm`, `clipvalue`, `global_clipnorm`, `weight_decay`,
`gradient_accumulation_steps`); this module only chooses the class by name, checks the
arguments up front with messages that name them, and passes them through.

What Keras does with them (read from `keras/src/optimizers/base_optimizer.py`):

- `clipnorm` clips the gradient of *each variable* to that L2 norm on its own;
  `global_clipnorm` clips all gradients together by their joint norm; `clipvalue`
  clips element-wise. Clipping runs after gradient accumulation (on the average).
- `gradient_accumulation_steps=k` applies the *average* of the last `k` batch
  gradients every `k`-th batch (nothing is applied in between). Since Keras's losses
  average over the batch, `k` batches of size `b` make exactly the update of one batch
  of size `k * b`. The optimizer's `iterations` (what a learning-rate schedule sees)
  counts updates, i.e. batches // k.
"""

from __future__ import annotations

import math
import numbers

import keras

from kerasdl._checks import is_number

__all__ = ["OPTIMIZERS", "get_optimizer"]

#: The optimizer names `get_optimizer` accepts, and the Keras classes they build.
OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "rmsprop": keras.optimizers.RMSprop,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
}

_MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")


def _check_positive_or_none(name: str, value, *, strict: bool = True) -> None:
    if value is None:
        return
    if (
        not is_number(value)
        or not math.isfinite(value)
        or not (value > 0 if strict else value >= 0)
    ):
        relation = "> 0" if strict else ">= 0"
        raise ValueError(
            f"{name} must be None or a finite number {relation}; received {value!r}."
        )


def validate_optimizer_args(
    name,
    learning_rate,
    *,
    momentum=0.0,
    nesterov=False,
    weight_decay=None,
    clipnorm=None,
    clipvalue=None,
    global_clipnorm=None,
    gradient_accumulation_steps=None,
) -> str:
    """Check the arguments of `get_optimizer` and return the normalised name.

    Shared by `get_optimizer` and `TrainingConfig`, so a bad value fails where it is
    given, with the same message.

    Raises:
        ValueError: For an unknown name or an impossible value, naming the argument
            and the value received.
        TypeError: When `learning_rate` is neither a number nor a Keras
            `LearningRateSchedule`.
    """
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {sorted(OPTIMIZERS)}; received {name!r}."
        )
    name = name.lower()
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        pass
    elif is_number(learning_rate):
        if not math.isfinite(learning_rate) or learning_rate <= 0:
            raise ValueError(
                "learning_rate must be a finite number > 0; "
                f"received {learning_rate!r}."
            )
    else:
        raise TypeError(
            "learning_rate must be a float or a "
            "keras.optimizers.schedules.LearningRateSchedule; received "
            f"{learning_rate!r} of type {type(learning_rate).__name__}."
        )
    if not is_number(momentum) or not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1); received {momentum!r}.")
    if momentum and name not in _MOMENTUM_OPTIMIZERS:
        raise ValueError(
            f"momentum applies to {list(_MOMENTUM_OPTIMIZERS)} only; received "
            f"momentum={momentum!r} with optimizer={name!r} (Adam's momentum is "
            "`beta_1`, pass it as a keyword argument)."
        )
    if not isinstance(nesterov, bool):
        raise ValueError(f"nesterov must be True or False; received {nesterov!r}.")
    if nesterov and name != "sgd":
        raise ValueError(
            f"nesterov applies to optimizer='sgd' only; received optimizer={name!r}."
        )
    if nesterov and not momentum:
        raise ValueError(
            "nesterov=True needs momentum > 0 (Nesterov momentum without momentum is "
            f"plain SGD); received momentum={momentum!r}."
        )
    _check_positive_or_none("weight_decay", weight_decay, strict=False)
    _check_positive_or_none("clipnorm", clipnorm)
    _check_positive_or_none("clipvalue", clipvalue)
    _check_positive_or_none("global_clipnorm", global_clipnorm)
    clips = {
        "clipnorm": clipnorm,
        "clipvalue": clipvalue,
        "global_clipnorm": global_clipnorm,
    }
    given = {key: value for key, value in clips.items() if value is not None}
    if len(given) > 1:
        raise ValueError(
            "Only one of clipnorm, clipvalue and global_clipnorm can be set; "
            f"received {given}."
        )
    steps = gradient_accumulation_steps
    if steps is not None and (
        not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1
    ):
        raise ValueError(
            "gradient_accumulation_steps must be None or an integer >= 1; "
            f"received {steps!r}."
        )
    return name


def get_optimizer(
    name: str = "adam",
    learning_rate=1e-3,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    weight_decay: float | None = None,
    clipnorm: float | None = None,
    clipvalue: float | None = None,
    global_clipnorm: float | None = None,
    gradient_accumulation_steps: int | None = None,
    **kwargs,
) -> keras.optimizers.Optimizer:
    """Build a Keras optimizer by name.

    Args:
        name: One of `"sgd"`, `"rmsprop"`, `"adam"`, `"adamw"` (case-insensitive).
        learning_rate: A float > 0, or a
            `keras.optimizers.schedules.LearningRateSchedule` (see
            `kerasdl.training.schedules`).
        momentum: Momentum in [0, 1) for `"sgd"` and `"rmsprop"`.
        nesterov: Nesterov momentum (`"sgd"` only; needs `momentum > 0`).
        weight_decay: Decoupled weight decay. Every Keras optimizer applies it as
            `w -= lr * weight_decay * w` before the update. `None` keeps the class
            default (0.004 for AdamW, none for the others).
        clipnorm: Clip the gradient of each variable to this L2 norm, separately.
        clipvalue: Clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: Clip all gradients together to this joint L2 norm. At most
            one of `clipnorm`, `clipvalue`, `global_clipnorm` may be set.
        gradient_accumulation_steps: Apply the *average* of `k` consecutive batch
            gradients every `k` batches, so that `k` batches of size `b` update the
            weights exactly as one batch of size `k * b` would (with Keras's
            default batch-averaged losses). `None` or `1` means no accumulation.
            Learning-rate schedules then count updates, not batches.
        **kwargs: Passed to the Keras class (e.g. `beta_1`, `epsilon`, `rho`,
            `use_ema`, `name`).

    Returns:
        A `keras.optimizers.Optimizer`.

    Raises:
        ValueError: For an unknown name (the message lists the valid ones) or an
            impossible value (negative learning rate, momentum outside [0, 1),
            two clipping modes, accumulation steps < 1, nesterov without momentum).
        TypeError: When `learning_rate` is neither a number nor a schedule.

    Example:
        >>> opt = get_optimizer("sgd", 0.1, momentum=0.9, nesterov=True, clipnorm=1.0)
        >>> opt = get_optimizer("adamw", cosine_annealing(1e-3, decay_steps=1000))
    """
    name = validate_optimizer_args(
        name,
        learning_rate,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay,
        clipnorm=clipnorm,
        clipvalue=clipvalue,
        global_clipnorm=global_clipnorm,
        gradient_accumulation_steps=gradient_accumulation_steps,
    )
    if isinstance(learning_rate, numbers.Real):
        learning_rate = float(learning_rate)
    options = dict(kwargs)
    if name == "sgd":
        options.update(momentum=float(momentum), nesterov=nesterov)
    elif name == "rmsprop":
        options.update(momentum=float(momentum))
    if weight_decay is not None:
        options["weight_decay"] = float(weight_decay)
    # Keras rejects gradient_accumulation_steps=1; one step is no accumulation.
    if gradient_accumulation_steps is not None and gradient_accumulation_steps > 1:
        options["gradient_accumulation_steps"] = int(gradient_accumulation_steps)
    return OPTIMIZERS[name](
        learning_rate=learning_rate,
        clipnorm=clipnorm,
        clipvalue=clipvalue,
        global_clipnorm=global_clipnorm,
        **options,
    )
