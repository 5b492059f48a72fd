"""Recurrent models: the RNN/LSTM/GRU sequence classifier, the LSTM encoder-decoder,
the time-series forecaster, and word2vec (skip-gram with negative sampling).
"""

from kerasdl.models.sequence.forecasting import (
    Forecaster,
    evaluate_forecasts,
    naive_forecast,
    seasonal_naive_forecast,
)
from kerasdl.models.sequence.rnn_classifier import (
    CELLS,
    END,
    START,
    Seq2SeqData,
    build_sequence_classifier,
    make_cell,
    make_reversal_task,
    sequence_exact_match,
)
from kerasdl.models.sequence.seq2seq_lstm import (
    Seq2SeqLSTM,
    make_teacher_forcing_inputs,
)
from kerasdl.models.sequence.word2vec import (
    Word2Vec,
    plot_embeddings_2d,
    skipgram_pairs,
    unigram_distribution,
)

__all__ = [
    "CELLS",
    "END",
    "START",
    "Seq2SeqData",
    "make_cell",
    "Forecaster",
    "Seq2SeqLSTM",
    "Word2Vec",
    "build_sequence_classifier",
    "evaluate_forecasts",
    "make_reversal_task",
    "make_teacher_forcing_inputs",
    "naive_forecast",
    "plot_embeddings_2d",
    "seasonal_naive_forecast",
    "sequence_exact_match",
    "skipgram_pairs",
    "unigram_distribution",
]
