"""The deep tabular architectures `compare`, `train` and `tune` accept: network class,
default settings, early-stopping patience and a one-line description each.
"""

from __future__ import annotations

from kerasdl.models.tabular.ft_transformer import FT_TRANSFORMER_SMALL, FTTransformer
from kerasdl.models.tabular.tabular_mlp import TabularMLP

#: Architecture names: network class, default network kwargs, default learning rate,
#: default early-stopping patience. The FT-Transformer's one block and patience 8
#: were chosen on tables outside the benchmark's report set (iris, statsmodels'
#: anes96, fair and randhie; seed-1 folds): as accurate as 2 blocks with patience
#: 16 there, in 45% of the time (`benchmarks/bench_tables.py`'s docstring).
_ARCHITECTURES = {
    "mlp": (TabularMLP, {}, 1e-3, 16),
    "ft_transformer": (FTTransformer, FT_TRANSFORMER_SMALL, 3e-4, 8),
}


#: Patience of a custom network class (as the MLP's).
_CUSTOM_PATIENCE = 16


def default_patience(architecture) -> int:
    """The early-stopping patience an architecture trains with when none is given."""
    if isinstance(architecture, str) and architecture in _ARCHITECTURES:
        return _ARCHITECTURES[architecture][3]
    return _CUSTOM_PATIENCE


TABULAR_ARCHITECTURES = tuple(_ARCHITECTURES)


#: One line per architecture, for `kerasdl compare --list`.
TABULAR_DESCRIPTIONS = {
    "mlp": "MLP over embedded categories, numbers and TF-IDF text (TabularMLP: "
    "2 x 256 ReLU, dropout 0.1), AdamW 1e-3, early stopping",
    "ft_transformer": "FT-Transformer, one token per column (FT_TRANSFORMER_SMALL: "
    "d_token 64, 1 block, 4 heads), AdamW 3e-4, early stopping",
}


#: Smallest fall of the validation loss (nats, or squared standardised target units)
#: that counts as progress for early stopping: on nearly separable tables the loss
#: creeps towards 0 by 1e-4 per epoch and would otherwise run every epoch.
MIN_DELTA = 1e-3
