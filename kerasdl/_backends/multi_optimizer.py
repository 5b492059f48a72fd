"""Custom train steps with several optimizers (GANs, actor-critic): `Phase`,
`OptimizerGroup` and `MultiOptimizerModel`, whose per-backend step runs the phases in
order (stateless under jit on JAX). Public as `kerasdl.backend.MultiOptimizerModel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras

from kerasdl._backends.keras_internals import (
    KerasInternalsError as KerasInternalsError,
)
from kerasdl._backends.keras_internals import graph_calls as graph_calls
from kerasdl._backends.keras_internals import is_functional as is_functional
from kerasdl._backends.keras_internals import producing_layer as producing_layer
from kerasdl._backends.keras_internals import run_graph as run_graph
from kerasdl._backends.keras_internals import sublayers as sublayers
from kerasdl._backends.selected import (
    BACKEND,
    _require_impl,
)


@dataclass
class Phase:
    """One update of a multi-optimizer train step.

    Args:
        name: Logged as `"{name}_loss"` (averaged over the epoch, like Keras metrics).
        optimizer: Key of the optimizer, in the dict given to `compile`, that updates
            `variables`.
        variables: The trainable variables this phase updates (e.g.
            `critic.trainable_variables`), or a zero-argument callable returning them.
        loss_fn: `loss_fn(data)` → scalar loss, or `(loss, logs)` where `logs` maps
            extra metric names (declared in `metrics`) to scalars. Write it with
            ordinary Keras calls (`self.generator(z, training=True)`,
            `keras.random.normal(..., seed=self.seed_generator)`); the seam makes it
            stateless where the backend needs it.
        repeats: How many times the phase runs per batch (e.g. `n_critic`).
        metrics: Names of the extra scalars `loss_fn` returns, logged like the loss.
        constraint: Optional `constraint(value) -> value`, written with `keras.ops`,
            applied to every variable of the phase after each of its updates (e.g.
            WGAN's weight clipping: `lambda w: ops.clip(w, -0.01, 0.01)`).
    """

    name: str
    optimizer: str
    variables: Sequence | Callable
    loss_fn: Callable
    repeats: int = 1
    metrics: Sequence[str] = ()
    constraint: Callable | None = None

    def __post_init__(self):
        if not isinstance(self.repeats, int) or self.repeats < 1:
            raise ValueError(
                f"Phase {self.name!r}: repeats must be an integer >= 1; "
                f"received {self.repeats!r}."
            )
        if self.constraint is not None and not callable(self.constraint):
            raise ValueError(
                f"Phase {self.name!r}: constraint must be a callable or None; "
                f"received {self.constraint!r}."
            )

    def resolve_variables(self) -> list:
        variables = self.variables() if callable(self.variables) else self.variables
        variables = list(variables)
        if not variables:
            raise ValueError(
                f"Phase {self.name!r} has no trainable variables to update."
            )
        return variables

    def compute(self, data):
        """Run `loss_fn` and return `(loss, logs)` with the loss under `{name}_loss`."""
        out = self.loss_fn(data)
        loss, extra = out if isinstance(out, tuple) else (out, {})
        unknown = set(extra) - set(self.metrics)
        if unknown:
            raise ValueError(
                f"Phase {self.name!r} returned undeclared metrics {sorted(unknown)}; "
                f"declare them in Phase(metrics=...)."
            )
        return loss, {f"{self.name}_loss": loss, **extra}


@keras.saving.register_keras_serializable(package="kerasdl")
class OptimizerGroup(keras.optimizers.Optimizer):
    """Several optimizers presented to Keras's trainers as one.

    Keras's trainers hold one `model.optimizer`; on JAX they pass its `variables` in
    and out of the jitted train step. The group exposes the variables of all its
    members (each built on the variables it updates), so every member's state travels
    with the step. Its own `iterations` counts train steps.

    Args:
        optimizers: Mapping from a key (used by `Phase.optimizer`) to an optimizer.
    """

    def __init__(self, optimizers: dict, name: str = "optimizer_group", **kwargs):
        if not isinstance(optimizers, dict) or not optimizers:
            raise ValueError(
                "optimizers must be a non-empty dict of name -> optimizer; "
                f"received {optimizers!r}."
            )
        optimizers = {
            key: keras.optimizers.get(opt) if isinstance(opt, str | dict) else opt
            for key, opt in optimizers.items()
        }
        for key, opt in optimizers.items():
            if not isinstance(opt, keras.optimizers.Optimizer):
                raise ValueError(
                    f"optimizers[{key!r}] must be a keras optimizer; received {opt!r}."
                )
        super().__init__(learning_rate=0.0, name=name, **kwargs)
        self._members = optimizers

    @property
    def optimizers(self) -> dict:
        """The member optimizers, by key."""
        return dict(self._members)

    def build_members(self, assignments: dict) -> None:
        """Build each member on the variables it updates (`{key: variables}`)."""
        missing = set(self._members) - set(assignments)
        if missing:
            raise ValueError(
                f"No phase uses the optimizer(s) {sorted(missing)}; every optimizer "
                "given to compile must update some variables."
            )
        for key, variables in assignments.items():
            if key not in self._members:
                raise ValueError(
                    f"A phase names optimizer {key!r}, which compile did not receive; "
                    f"received optimizers {sorted(self._members)}."
                )
            if not self._members[key].built:
                self._members[key].build(variables)

    def build(self, var_list):
        """Build the group's own state (members are built by `build_members`)."""
        super().build([])

    @property
    def variables(self):
        members = [v for opt in self._members.values() for v in opt.variables]
        return self._variables[:] + members

    def apply(self, grads, trainable_variables=None):
        raise TypeError(
            "OptimizerGroup does not apply gradients itself; "
            "each Phase's optimizer does."
        )

    def get_config(self):
        return {
            "name": self.name,
            "optimizers": {
                key: keras.optimizers.serialize(opt)
                for key, opt in self._members.items()
            },
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        optimizers = {
            key: keras.optimizers.deserialize(opt, custom_objects=custom_objects)
            for key, opt in config["optimizers"].items()
        }
        return cls(optimizers, name=config.get("name", "optimizer_group"))


class MultiOptimizerModel(keras.Model):
    """Base class for models trained by several optimizers in one `fit`.

    Subclasses implement `train_phases()` returning a list of `Phase`, and `call`
    (used by `predict`). `compile(optimizers={...})` takes one optimizer per key named
    by the phases. The train step runs each phase `repeats` times, in order, each
    taking the gradient of its loss with respect to its own variables and applying
    it with its own optimizer; later phases see the updates of earlier ones. On JAX
    the step is stateless and jit-compiled; on TensorFlow it is a `tf.function`.

    Example:
        >>> class TwoPlayer(MultiOptimizerModel):
        ...     def train_phases(self):
        ...         return [Phase("critic", "critic", self.critic.trainable_variables,
        ...                       self.critic_loss, repeats=5),
        ...                 Phase("generator", "generator",
        ...                       self.generator.trainable_variables, self.gen_loss)]
        >>> model.compile(optimizers={"critic": keras.optimizers.Adam(1e-4),
        ...                           "generator": keras.optimizers.Adam(1e-4)})
    """

    def train_phases(self) -> list[Phase]:
        raise NotImplementedError(
            f"{type(self).__name__} must implement train_phases() "
            "returning Phase objects."
        )

    def compile(self, optimizers: dict, **kwargs):
        """Configure the model with one optimizer per phase key.

        Args:
            optimizers: `{key: optimizer}`; every `Phase.optimizer` key must be here.
            **kwargs: Passed to `keras.Model.compile` (e.g. `jit_compile`,
                `steps_per_execution`). `loss` and `optimizer` are not accepted: losses
                are the phases'.
        """
        for forbidden in ("optimizer", "loss"):
            if forbidden in kwargs:
                raise ValueError(
                    f"{type(self).__name__}.compile takes "
                    "optimizers={key: optimizer} "
                    "and the phases' losses; "
                    f"received {forbidden}={kwargs[forbidden]!r}."
                )
        group = (
            optimizers
            if isinstance(optimizers, OptimizerGroup)
            else OptimizerGroup(optimizers)
        )
        phases = self.train_phases()
        if not phases:
            raise ValueError(
                f"{type(self).__name__}.train_phases() returned no phases."
            )
        assignments: dict = {}
        for phase in phases:
            variables = phase.resolve_variables()
            known = assignments.setdefault(phase.optimizer, variables)
            if [id(v) for v in known] != [id(v) for v in variables]:
                raise ValueError(
                    f"Optimizer {phase.optimizer!r} is used by phases with different "
                    "variables; give each set of variables its own optimizer."
                )
        group.build_members(assignments)
        group.build([])
        self._phase_trackers = {}
        for phase in phases:
            for key in (f"{phase.name}_loss", *phase.metrics):
                if key not in self._phase_trackers:
                    self._phase_trackers[key] = keras.metrics.Mean(name=key)
        super().compile(optimizer=group, **kwargs)
        # Plain attributes: Keras would track lists of variables assigned to a model
        # as its own weights (the networks' weights a second time), and a `.keras`
        # file of the compiled model would then not load.
        object.__setattr__(self, "_phases", phases)
        object.__setattr__(
            self, "_phase_variables", [phase.resolve_variables() for phase in phases]
        )

    def compile_from_config(self, config):
        """Recompile a loaded model (`keras.saving.load_model`) with its optimizers.

        `get_compile_config` (Keras's) holds the `OptimizerGroup`; this rebuilds the
        phases, the optimizers and the loss trackers so that their saved state
        loads and `fit` resumes where it stopped.
        """
        config = keras.saving.deserialize_keras_object(config)
        group = config.get("optimizer")
        if not isinstance(group, OptimizerGroup):
            raise ValueError(
                f"{type(self).__name__} was saved without its OptimizerGroup; "
                "call compile(...) again after loading."
            )
        kwargs = {
            key: config[key]
            for key in ("run_eagerly", "steps_per_execution", "jit_compile")
            if key in config
        }
        MultiOptimizerModel.compile(self, optimizers=group, **kwargs)

    @property
    def metrics(self):
        return list(getattr(self, "_phase_trackers", {}).values())

    def update_phase_metrics(self, logs: dict) -> dict:
        """Update the epoch averages with one step's logs and return their results."""
        for key, value in logs.items():
            self._phase_trackers[key].update_state(value)
        return {key: tracker.result() for key, tracker in self._phase_trackers.items()}

    if BACKEND == "jax":

        def train_step(self, state, data):
            return _require_impl("MultiOptimizerModel").multi_optimizer_train_step(
                self, state, data
            )

    else:

        def train_step(self, data):
            return _require_impl("MultiOptimizerModel").multi_optimizer_train_step(
                self, data
            )
