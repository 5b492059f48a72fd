"""A BERT-like encoder (Devlin et al., 2019): masked-language-model pre-training,
then a classifier.

BERT learns text by filling in blanks: 15% of the real tokens are selected; of those
80% become `[MASK]`, 10% a random word and 10% stay as they are, and the model must
name the original token at every selected position (and only there). Because the
encoder attends in both directions, each prediction uses the words before *and*
after the blank. The pre-trained encoder then starts a task model (here a
classifier) instead of random weights.

Files by role: `masking` (the corruption and its dataset), `text` (document
splits, windows, fill-mask), `encoder`, `masked_lm` (head, pre-training model,
accuracy), `classifier`. The pre-training recipe is
`kerasdl.recipes.train_masked_lm`. All three models are functional graphs in a
class, so they serialize to `.keras` files and reload with identical outputs.
"""

from kerasdl.models.transformers.bert.classifier import POOLINGS, BertClassifier
from kerasdl.models.transformers.bert.encoder import BertEncoder
from kerasdl.models.transformers.bert.masked_lm import (
    BertMaskedLM,
    MaskedLMHead,
    masked_accuracy,
)
from kerasdl.models.transformers.bert.masking import (
    SPECIAL_TOKENS,
    MaskedLMDataset,
    mask_tokens,
)
from kerasdl.models.transformers.bert.text import (
    bert_windows,
    fill_mask,
    split_documents,
)

__all__ = [
    "BertClassifier",
    "BertEncoder",
    "BertMaskedLM",
    "MaskedLMDataset",
    "MaskedLMHead",
    "POOLINGS",
    "SPECIAL_TOKENS",
    "bert_windows",
    "fill_mask",
    "mask_tokens",
    "masked_accuracy",
    "split_documents",
]
