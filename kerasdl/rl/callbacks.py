"""The callback protocol of `Agent.learn`, and `CallbackList` to pass several.

A callback is any callable `callback(agent, logs) -> bool | None`, called during
`learn` (after every vector step for DQN, after every update for A2C and REINFORCE);
returning `False` stops training. It may also have the methods
`on_training_start(agent)` and `on_training_end(agent)`: `learn` calls the first
once it has set the horizon, the second in its `finally`, so it runs however
training stops (budget reached, `False` returned, an exception, Ctrl-C).
`EvalCallback` (best-checkpoint selection) uses both.
"""

from __future__ import annotations


def call_hook(callback, name: str, agent) -> None:
    """Call `callback.<name>(agent)` if the callback has such a method."""
    hook = getattr(callback, name, None)
    if callable(hook):
        hook(agent)


class CallbackList:
    """Several callbacks as one, called in order.

    Every callback is called at every call, and training stops if any of them
    returns `False`. The training start and end hooks are passed on to the
    callbacks that have them.

    Args:
        callbacks: Callables `callback(agent, logs) -> bool | None`.

    Example:
        >>> agent.learn(50_000, callback=CallbackList([EvalCallback(), my_logger]))
    """

    def __init__(self, callbacks):
        callbacks = list(callbacks)
        for i, callback in enumerate(callbacks):
            if not callable(callback):
                raise ValueError(
                    "callbacks must be callables callback(agent, logs); received "
                    f"callbacks[{i}]={callback!r}."
                )
        self.callbacks = callbacks

    def on_training_start(self, agent) -> None:
        for callback in self.callbacks:
            call_hook(callback, "on_training_start", agent)

    def __call__(self, agent, logs):
        results = [callback(agent, logs) for callback in self.callbacks]
        return False if any(r is False for r in results) else None

    def on_training_end(self, agent) -> None:
        # Every callback's end hook runs, even when an earlier one raises.
        errors = []
        for callback in self.callbacks:
            try:
                call_hook(callback, "on_training_end", agent)
            except Exception as error:  # noqa: BLE001  (re-raised below)
                errors.append(error)
        if errors:
            raise errors[0]


def as_callback(callback):
    """`learn`'s `callback` argument as one callable (or None): a list or tuple
    becomes a `CallbackList`; anything else must be callable."""
    if callback is None:
        return None
    if isinstance(callback, (list, tuple)):
        return CallbackList(callback)
    if not callable(callback):
        raise ValueError(
            "callback must be a callable callback(agent, logs) -> bool | None (or a "
            f"list of them); received callback={callback!r}."
        )
    return callback
