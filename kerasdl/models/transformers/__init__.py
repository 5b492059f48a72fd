"""Transformer models: GPT-like, BERT-like, encoder-decoder, ViT."""

from kerasdl.models.transformers.bert import (
    BertClassifier,
    BertEncoder,
    BertMaskedLM,
    MaskedLMDataset,
    MaskedLMHead,
    MaskedLMResult,
    bert_windows,
    fill_mask,
    mask_tokens,
    masked_accuracy,
    split_documents,
    train_masked_lm,
)
from kerasdl.models.transformers.date_task import (
    DATE_FORMATS,
    DateDataset,
    DateTranslationTask,
    exact_match,
    make_date_dataset,
)
from kerasdl.models.transformers.gpt import (
    SAMPLING_METHODS,
    GPTLanguageModel,
    sample_next_token,
)
from kerasdl.models.transformers.language import (
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
from kerasdl.models.transformers.seq2seq import TransformerSeq2Seq
from kerasdl.models.transformers.vit import RandomShift, ViTClassifier

__all__ = [
    "BertClassifier",
    "BertEncoder",
    "BertMaskedLM",
    "MaskedLMDataset",
    "MaskedLMHead",
    "MaskedLMResult",
    "RandomShift",
    "ViTClassifier",
    "bert_windows",
    "fill_mask",
    "mask_tokens",
    "masked_accuracy",
    "split_documents",
    "train_masked_lm",
    "DATE_FORMATS",
    "DateDataset",
    "DateTranslationTask",
    "TransformerSeq2Seq",
    "exact_match",
    "make_date_dataset",
    "SAMPLING_METHODS",
    "BigramLanguageModel",
    "CharLMResult",
    "GPTLanguageModel",
    "corpus_text",
    "evaluate_nats_per_token",
    "generate_text",
    "load_char_lm",
    "sample_next_token",
    "save_char_lm",
    "text_windows",
    "train_char_lm",
]
