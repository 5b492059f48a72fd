"""Deep networks for tables: FT-Transformer and an MLP with column embeddings.

Both take a dict of already-encoded tensors, with only the keys that exist for
the table (the preprocessing, fitted on training rows, produces exactly this):

* `"numeric"`: float32 `(batch, n_numeric)`: imputed, standardised numbers
  (missing-value indicators and date parts included);
* `"categorical"`: int32 `(batch, len(cardinalities))`: per-column ids in
  `[0, cardinalities[j])`, id 0 meaning missing or unseen;
* `"dense"`: float32 `(batch, n_dense)`, e.g. TF-IDF vectors of text columns.

They output raw logits (`output_units` = number of classes, >= 2) or values
(`output_units=1`, regression): apply the softmax or a `from_logits=True` loss
outside. `TableEncoder` (fitted on training rows) turns raw columns into these
inputs, and `TabularModel` bundles the two so that a saved `.keras` file predicts on
raw rows (strings, missing cells, unseen categories). `model.input_widths` lists
the keys a model expects, and NumPy batches are checked against the contract
(keys, widths, id ranges, finiteness) before they reach the backend.
"""

from kerasdl.models.tabular._base import INPUT_KEYS, TabularNetwork
from kerasdl.models.tabular.encoder import DATE_PARTS, MISSING_TOKEN, TableEncoder
from kerasdl.models.tabular.ft_transformer import (
    FEED_FORWARD_ACTIVATIONS,
    FT_TRANSFORMER_SMALL,
    NUMERIC_EMBEDDINGS,
    FTTransformer,
    FTTransformerBlock,
)
from kerasdl.models.tabular.tabular_mlp import MLP_NUMERIC_EMBEDDINGS, TabularMLP
from kerasdl.models.tabular.tabular_model import TabularModel

__all__ = [
    "DATE_PARTS",
    "MISSING_TOKEN",
    "TableEncoder",
    "TabularModel",
    "FEED_FORWARD_ACTIVATIONS",
    "FT_TRANSFORMER_SMALL",
    "INPUT_KEYS",
    "MLP_NUMERIC_EMBEDDINGS",
    "NUMERIC_EMBEDDINGS",
    "FTTransformer",
    "FTTransformerBlock",
    "TabularMLP",
    "TabularNetwork",
]
