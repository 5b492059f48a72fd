"""Transformer models: GPT-like, BERT-like, encoder-decoder, ViT."""

from kerasdl.data.date_task import (
    DATE_FORMATS,
    DateDataset,
    DateTranslationTask,
    exact_match,
    make_date_dataset,
)
from kerasdl.models.transformers.bert import (
    BertClassifier,
    BertEncoder,
    BertMaskedLM,
    MaskedLMDataset,
    MaskedLMHead,
    bert_windows,
    fill_mask,
    mask_tokens,
    masked_accuracy,
    split_documents,
)
from kerasdl.models.transformers.gpt import (
    SAMPLING_METHODS,
    GPTLanguageModel,
    sample_next_token,
)
from kerasdl.models.transformers.seq2seq import TransformerSeq2Seq
from kerasdl.models.transformers.vit import RandomShift, ViTClassifier

__all__ = [
    "BertClassifier",
    "BertEncoder",
    "BertMaskedLM",
    "MaskedLMDataset",
    "MaskedLMHead",
    "RandomShift",
    "ViTClassifier",
    "bert_windows",
    "fill_mask",
    "mask_tokens",
    "masked_accuracy",
    "split_documents",
    "DATE_FORMATS",
    "DateDataset",
    "DateTranslationTask",
    "TransformerSeq2Seq",
    "exact_match",
    "make_date_dataset",
    "SAMPLING_METHODS",
    "GPTLanguageModel",
    "sample_next_token",
]
