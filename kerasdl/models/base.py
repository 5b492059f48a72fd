"""The bases of kerasdl's model classes, which honour `dtype`.

`FunctionalModel` (functional graphs in a class) and `SubclassedModel` (layers
in `__init__`, `call` by hand) share one implementation: the config plumbing
every model has (`name`, `trainable`, `dtype`) and the model's dtype policy
applied to every layer the model builds.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import keras

__all__ = [
    "FunctionalModel",
    "SubclassedModel",
    "composed_dtype_policy",
    "dtype_policy_scope",
    "get_dtype_policy",
    "network_dtype_policy",
]


def get_dtype_policy(dtype):
    """`dtype` as a `keras.DTypePolicy`, or None when `dtype` is None.

    Accepts a policy name (`"float32"`, `"mixed_bfloat16"`, ...), a
    `keras.DTypePolicy`, or a serialized policy (the dict `get_config` stores).

    Raises:
        ValueError: For anything else, naming the argument and the value.
    """
    if dtype is None:
        return None
    if isinstance(dtype, keras.DTypePolicy):
        return dtype
    if isinstance(dtype, (str, dict)):
        try:
            return keras.dtype_policies.get(dtype)
        except (ValueError, TypeError, KeyError):
            pass
    raise ValueError(
        "`dtype` must be None, a dtype policy name such as 'float32' or "
        f"'mixed_bfloat16', or a keras.DTypePolicy; received dtype={dtype!r}."
    )


@contextlib.contextmanager
def dtype_policy_scope(dtype):
    """Makes `dtype` the default dtype policy of the layers created inside.

    Keras gives a layer built without `dtype=` the global policy
    (`keras.config.dtype_policy()`, held per thread); this sets it for the
    duration of the block and restores the previous one after. `dtype=None`
    changes nothing.
    """
    policy = get_dtype_policy(dtype)
    if policy is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def network_dtype_policy(model):
    """The dtype policy `model` computes with, or None when its layers disagree.

    A kerasdl model carries its own policy. A plain functional `keras.Model` does
    not (its policy is the global one when it was built), so its layers are asked:
    the one policy every layer holding weights or computing has (input layers and
    nested plain models left out), or None when they hold several.
    """
    if not isinstance(model, keras.layers.Layer):
        return None
    if isinstance(model, _PolicyConfig) or not isinstance(model, keras.Model):
        return model.dtype_policy
    names = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            policy = network_dtype_policy(layer)
        else:
            policy = layer.dtype_policy
        if policy is None:
            return None
        names.setdefault(policy.name, policy)
    if len(names) == 1:
        return next(iter(names.values()))
    return model.dtype_policy if not names else None


def composed_dtype_policy(dtype, parts, owner):
    """The dtype policy of a model composed of networks built before it.

    A composed model (a VAE of an encoder and a decoder, a GAN, a BERT head on an
    encoder) uses the networks it is given as they are, so its `dtype` must be
    theirs. With `dtype=None` it takes the networks' policy (as keras-hub's task
    heads take their backbone's); a `dtype` that differs from a network's is an
    error, since the network would otherwise compute in another precision than
    the model says.

    Args:
        dtype: The composed model's `dtype` argument (None, a name, a policy or a
            serialized policy).
        parts: `{argument name: network}`.
        owner: The composed model's class name, for the error message.

    Returns:
        A `keras.DTypePolicy`, or None (the global policy) when `dtype` is None
        and the networks' policies cannot be told.

    Raises:
        ValueError: When `dtype` differs from a network's policy, or `dtype` is
            None and the networks disagree.
    """
    policy = get_dtype_policy(dtype)
    found = {name: network_dtype_policy(net) for name, net in parts.items()}
    found = {name: p for name, p in found.items() if p is not None}
    if policy is None:
        names = {p.name for p in found.values()}
        if len(names) > 1:
            listed = ", ".join(f"{n}={p.name!r}" for n, p in found.items())
            raise ValueError(
                f"{owner}'s networks must share one dtype policy; received {listed}. "
                "Build them with the same `dtype=`."
            )
        return next(iter(found.values()), None)
    for name, part_policy in found.items():
        if part_policy.name != policy.name:
            raise ValueError(
                f"{owner} received dtype={policy.name!r}, but its `{name}` computes "
                f"with the dtype policy {part_policy.name!r}. Build the `{name}` with "
                f"dtype={policy.name!r} too (the builders take `dtype=`), or leave "
                f"{owner}'s dtype=None to use the networks' policy."
            )
    return policy


def _in_policy_scope_of_kwargs(init):
    @functools.wraps(init)
    def wrapped(self, *args, **kwargs):
        with dtype_policy_scope(kwargs.get("dtype")):
            init(self, *args, **kwargs)

    # Keras reads the constructor's signature (auto-config); show it the real one.
    wrapped.__signature__ = inspect.signature(init)
    wrapped._kerasdl_dtype_scoped = True
    return wrapped


class _PolicyConfig:
    """What every kerasdl model class shares: `name`, `trainable` and `dtype` in
    the config, and the model's dtype policy on every layer it builds.

    Used through `FunctionalModel` and `SubclassedModel` (two bases because
    Keras rewrites the bases of a class the first time one of its instances is
    built as a functional model, which would turn a subclassed sibling into a
    functional one).

    keras-hub's `Backbone` is the model: its `get_config` starts from `name` and
    `trainable` instead of chaining to the functional model's nested-layer
    config, its `from_config` calls `cls(**config)` so a subclass instance comes
    back, and its `__init__` sets `self.dtype_policy` from `dtype` (which
    `keras.Functional` would otherwise drop). This class adds `dtype` to the
    config as a serialized policy, so a saved model reloads with its policy.

    How the policy reaches every layer: keras-hub passes `dtype=dtype` to each layer
    by hand. Here the subclass's `__init__` runs with the model's policy as the
    default policy (`dtype_policy_scope`), so every layer created there gets it
    without a `dtype=` argument: the layers of the functional graph, the sublayers
    that composite `kerasdl.layers` blocks create themselves, and the layers built
    by shared helper functions. A forgotten `dtype=` cannot leave a float32 island
    inside a bfloat16 model. The wrapping is done once per subclass in
    `__init_subclass__`; a subclass writes an ordinary `__init__` that accepts
    `**kwargs` (holding `dtype`) and passes them to `super().__init__`.

    Subclasses return `{**super().get_config(), ...their arguments}` from
    `get_config`, and override `from_config` only to turn JSON lists back into
    tuples.

    Args:
        *args: Passed to `keras.Model` (`inputs`, `outputs` for a functional
            model).
        dtype: Dtype policy of the model and of every layer it builds: a name
            such as `"float32"`, `"bfloat16"` or `"mixed_bfloat16"`, a
            `keras.DTypePolicy`, or None for the global policy.
        **kwargs: Passed to `keras.Model` (`name`, `trainable`).

    Example:

    ```python
    model = kerasdl.models.UNet((16, 16, 1), 2, dtype="mixed_bfloat16")
    model.get_layer("down0_conv1").compute_dtype  # "bfloat16"
    ```
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__init__")
        if own is not None and not getattr(own, "_kerasdl_dtype_scoped", False):
            cls.__init__ = _in_policy_scope_of_kwargs(own)

    def __init__(self, *args, dtype=None, **kwargs):
        policy = get_dtype_policy(dtype)
        with dtype_policy_scope(policy):
            super().__init__(*args, **kwargs)
        if policy is not None:
            # `keras.Functional` drops `dtype`; set the model's own policy.
            self.dtype_policy = policy

    def get_config(self):
        # Not chained to keras.Model: a functional model's config is its nested
        # layer graph, which the subclass's constructor does not take.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        # keras.Model.from_config would return a plain functional model.
        return cls(**config)


class FunctionalModel(_PolicyConfig, keras.Model):
    """Base of the models that are functional graphs in a class (keras-hub's
    `Backbone`): the subclass builds its graph in `__init__` and calls
    `super().__init__(inputs=..., outputs=..., name=..., **kwargs)`. See
    `_PolicyConfig` for the config and the dtype policy.
    """


class SubclassedModel(_PolicyConfig, keras.Model):
    """Base of the models that create their layers in `__init__` and write `call`
    by hand. The subclass calls `super().__init__(**kwargs)` first; its layers
    are then created under the model's dtype policy (a layer created later, in
    `build`, takes `dtype=self.dtype_policy`). See
    `_PolicyConfig` for the config and the dtype policy.
    """
