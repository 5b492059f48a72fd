"""`RecurrentHyperModel`: the search space of `build_sequence_classifier`."""

from __future__ import annotations

from kerasdl._checks import check_int
from kerasdl.hypermodels.base import ClassifierHyperModel
from kerasdl.hypermodels.space import boolean, choice, float_range, int_range

# The names of kerasdl.models.sequence.rnn_classifier.CELLS; rnn = SimpleRNN.
CELL_NAMES = ("lstm", "gru", "rnn")


class RecurrentHyperModel(ClassifierHyperModel):
    """Search space of the recurrent classifier
    (`kerasdl.models.build_sequence_classifier`, on kerasdl's hand-written cells).

    Inputs: float sequences `(time, features)`; images `(height, width, channels)`,
    read row by row as `height` steps of `width * channels` features (the digits
    become 8 steps of 8 pixels); or token ids `(time,)` with `vocab_size`.

    Hyperparameters (defaults = `build_sequence_classifier(compiled=True)` untuned:
    one LSTM layer of 64 units, not bidirectional, no dropout; Adam 1e-3 constant,
    Keras's default batch 32; 20 epochs; no label smoothing):

    - `cell`: `"lstm"`, `"gru"` or `"rnn"` (SimpleRNN);
    - `units`: 16..256 (log scale); `num_layers`: 1..3;
    - `bidirectional`: True/False; `dropout`: 0..0.5;
    - plus `learning_rate`, `schedule`, `optimizer`, `batch_size`.

    Args:
        input_shape: See above.
        num_classes: Number of classes (>= 2).
        vocab_size: Number of token ids (0 = padding) for token inputs.
        **kwargs: See `ClassifierHyperModel`.
    """

    family = "recurrent"
    default_schedule = "constant"
    default_epochs = 20
    default_label_smoothing = 0.0

    def __init__(self, input_shape, num_classes, *, vocab_size=None, **kwargs):
        self.vocab_size = check_int(
            "vocab_size", vocab_size, minimum=2, allow_none=True
        )
        super().__init__(input_shape, num_classes, **kwargs)

    def check_input_shape(self, input_shape):
        if self.vocab_size is not None:
            if len(input_shape) != 1:
                raise ValueError(
                    "Token inputs (vocab_size given) take `input_shape=(time,)`; "
                    f"received input_shape={input_shape!r}."
                )
            if self.normalization is not None:
                raise ValueError("Token inputs cannot be standardized (normalization).")
        elif len(input_shape) not in (2, 3):
            raise ValueError(
                "The recurrent family needs sequences (time, features), images "
                "(height, width, channels) read row by row, or tokens (time,) with "
                f"vocab_size; received input_shape={input_shape!r}."
            )

    def model_space(self):
        return {
            "cell": choice("lstm", CELL_NAMES, allowed=CELL_NAMES),
            "units": int_range(64, 16, 256, sampling="log"),
            "num_layers": int_range(1, 1, 3),
            "bidirectional": boolean(False),
            "dropout": float_range(0.0, 0.0, 0.5, maximum=1.0, maximum_open=True),
        }

    def network_input_shape(self, values):
        if len(self.sample_shape) == 3:
            height, width, channels = self.sample_shape
            return (height, width * channels)
        return self.sample_shape

    def build_network(self, values):
        from kerasdl.models.sequence.rnn_classifier import build_sequence_classifier

        return build_sequence_classifier(
            self.network_input_shape(values),
            num_classes=self.num_classes,
            vocab_size=self.vocab_size,
            cell=values["cell"],
            units=values["units"],
            num_layers=values["num_layers"],
            bidirectional=values["bidirectional"],
            dropout=values["dropout"],
        )
