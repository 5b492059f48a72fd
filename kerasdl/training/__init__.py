"""Training toolkit: optimizers, schedules, callbacks, precision, seeding, `train`.

Everything is built on Keras's own mechanisms (`keras.optimizers` with `clipnorm` and
`gradient_accumulation_steps`, `keras.optimizers.schedules`, `keras.callbacks`, the
global dtype policy, `kerasdl.backend.set_random_seed`). `TrainingConfig` is the one
place that holds every choice; `train` compiles and fits a model with it.

Example:
    >>> from kerasdl.training import TrainingConfig, train
    >>> config = TrainingConfig(optimizer="adamw", learning_rate=1e-3,
    ...                         schedule="warmup_cosine",
    ...                         schedule_kwargs={"warmup_steps": 50},
    ...                         precision="mixed_bfloat16", seed=0, epochs=10)
    >>> config.setup()          # before building the model
    >>> model = build_model()
    >>> history = train(model, x, y, config=config, loss="mse", out_dir="runs/a")
"""

from kerasdl.training.callbacks import (
    BACKUP_DIR,
    CHECKPOINT_FILE,
    CSV_LOG_FILE,
    TENSORBOARD_DIR,
    make_callbacks,
)
from kerasdl.training.config import PRECISIONS, TrainingConfig
from kerasdl.training.distribute import (
    DISTRIBUTIONS,
    distributed_scope,
    list_devices,
    make_distribution,
    use_virtual_cpu_devices,
)
from kerasdl.training.distribute_layouts import transformer_layout_map
from kerasdl.training.fit import train
from kerasdl.training.lr_finder import LRFinderResult, find_learning_rate
from kerasdl.training.optimizers import OPTIMIZERS, get_optimizer
from kerasdl.training.schedules import (
    SCHEDULES,
    cosine_annealing,
    get_schedule,
    step_decay,
    warmup_cosine,
)
from kerasdl.training.seeding import set_seed

__all__ = [
    "BACKUP_DIR",
    "CHECKPOINT_FILE",
    "CSV_LOG_FILE",
    "DISTRIBUTIONS",
    "LRFinderResult",
    "OPTIMIZERS",
    "PRECISIONS",
    "SCHEDULES",
    "TENSORBOARD_DIR",
    "TrainingConfig",
    "cosine_annealing",
    "distributed_scope",
    "find_learning_rate",
    "get_optimizer",
    "get_schedule",
    "list_devices",
    "make_callbacks",
    "make_distribution",
    "set_seed",
    "step_decay",
    "train",
    "transformer_layout_map",
    "use_virtual_cpu_devices",
    "warmup_cosine",
]
