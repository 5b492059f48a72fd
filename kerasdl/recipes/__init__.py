"""End-to-end recipes: the jobs that put data, a model, the training loop and the
reports together — train a classifier, a table model, a generative model, a
character-level language model, a masked language model, word2vec, an RL agent;
transfer fine-tuning; the gradient-flow experiments.

Recipes sit above the models, the training loop and the evaluation tools; nothing
below imports them. The `kerasdl` command calls them.
"""

from kerasdl.recipes.char_lm import (
    BigramLanguageModel,
    CharLMResult,
    corpus_text,
    evaluate_nats_per_token,
    generate_text,
    load_char_lm,
    save_char_lm,
    text_windows,
    train_char_lm,
)
from kerasdl.recipes.classifier import save_history, train_classifier
from kerasdl.recipes.generative import (
    GenerativeSettings,
    build_generative,
    train_generative,
)
from kerasdl.recipes.gradient_flow import (
    clipping_experiment,
    digits_as_sequences,
    gradient_norm_by_distance,
    plot_clipping,
    plot_gradient_norms,
)
from kerasdl.recipes.masked_lm import MaskedLMResult, train_masked_lm
from kerasdl.recipes.rl import agent_class, run_rl
from kerasdl.recipes.table import is_table, train_tabular
from kerasdl.recipes.transfer import fit_transfer
from kerasdl.recipes.word2vec import train_word2vec, word2vec_corpus_ids

__all__ = [
    "BigramLanguageModel",
    "CharLMResult",
    "GenerativeSettings",
    "MaskedLMResult",
    "agent_class",
    "build_generative",
    "clipping_experiment",
    "corpus_text",
    "digits_as_sequences",
    "evaluate_nats_per_token",
    "fit_transfer",
    "generate_text",
    "gradient_norm_by_distance",
    "is_table",
    "load_char_lm",
    "plot_clipping",
    "plot_gradient_norms",
    "run_rl",
    "save_char_lm",
    "save_history",
    "text_windows",
    "train_char_lm",
    "train_classifier",
    "train_generative",
    "train_masked_lm",
    "train_tabular",
    "train_word2vec",
    "word2vec_corpus_ids",
]
