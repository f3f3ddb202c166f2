"""Text classification data: tokenized once with ``datasets.map``, padded per batch."""

from collections.abc import Callable
from typing import ClassVar

from datasets import DatasetDict, Value
from datasets.fingerprint import Hasher
from lightning.pytorch.utilities import rank_zero_info
from transformers import DataCollatorWithPadding, PreTrainedTokenizerBase

from finetune.backbones.base import Modality
from finetune.data.base import ClassificationDataModule
from finetune.data.splits import LABELS, carve_missing_splits, label_names, subsample

TRUNCATION_SIDES = ("right", "left")


class TextClassificationDataModule(ClassificationDataModule):
    """Single-text classification from any source that returns a ``datasets.DatasetDict``.

    ``prepare_data`` loads and tokenizes once per node and fills the ``datasets`` cache. ``setup``
    in the other processes, and every later run with the same data, tokenizer and settings, read
    that cache instead of tokenizing again. Sequences are truncated to ``max_length`` and each
    batch is padded to its longest sequence. Every batch carries ``labels``, whatever the label
    column is called.

    Args:
        dataset: called with no arguments to load the splits, for example `text_sources.imdb`.
        preprocessor: the backbone's tokenizer.
        text_column: column with the text.
        label_column: column with the class, as integers, strings or a ``ClassLabel``.
        label_names: class names for plain integer labels; ``ClassLabel`` and string labels name
            themselves.
        max_length: tokens kept per text, at most the tokenizer's ``model_max_length``.
        truncation_side: ``right`` keeps the start of long texts, ``left`` keeps the end.
        batch_size: training batch size per device.
        eval_batch_size: validation and test batch size; defaults to ``batch_size``.
        num_workers: DataLoader worker processes.
        val_fraction: share of train carved as validation when the dataset has no such split.
        test_fraction: share of train carved as test when the dataset has no such split.
        max_train_samples: keep this many training examples at random; ``None`` keeps all.
        max_val_samples: the same for validation.
        max_test_samples: the same for test.
        seed: seed for carving and subsampling, so every run gets the same examples.
    """

    modality: ClassVar[Modality] = "text"

    def __init__(
        self,
        dataset: Callable[[], DatasetDict],
        preprocessor: PreTrainedTokenizerBase,
        text_column: str = "text",
        label_column: str = "label",
        label_names: list[str] | None = None,
        max_length: int = 128,
        truncation_side: str = "right",
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 0,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        max_train_samples: int | None = None,
        max_val_samples: int | None = None,
        max_test_samples: int | None = None,
        seed: int = 42,
    ) -> None:
        super().__init__(
            batch_size,
            eval_batch_size,
            num_workers,
            val_fraction,
            test_fraction,
            max_train_samples,
            max_val_samples,
            max_test_samples,
            seed,
        )
        if truncation_side not in TRUNCATION_SIDES:
            raise ValueError(
                f"Invalid data.truncation_side={truncation_side!r}. Choose one of {list(TRUNCATION_SIDES)}."
            )
        model_max_length = preprocessor.model_max_length
        if max_length > model_max_length:
            raise ValueError(
                f"Invalid data.max_length={max_length}: the tokenizer accepts at most {model_max_length} "
                f"tokens. Set data.max_length={model_max_length} or less."
            )
        self.load_dataset = dataset
        self.tokenizer = preprocessor
        self.text_column = text_column
        self.label_column = label_column
        self.configured_label_names = label_names
        self.max_length = max_length
        self.truncation_side = truncation_side
        self.collate_fn = DataCollatorWithPadding(self.tokenizer)

    def prepare_data(self) -> None:
        # Lightning calls this on one process per node. That process keeps the result, and the
        # others read the datasets cache in setup().
        if self.splits is None:
            self.splits = self._load_and_tokenize()

    def setup(self, stage: str | None = None) -> None:
        if self.splits is None:
            self.splits = self._load_and_tokenize()

    def _load_and_tokenize(self) -> DatasetDict:
        dataset = self.load_dataset()
        dataset = self._select_columns(dataset)
        fractions = self.fractions
        dataset = carve_missing_splits(dataset, fractions["validation"], fractions["test"], self.seed)
        self.label_names = label_names(dataset, self.configured_label_names)
        self.tokenizer.truncation_side = self.truncation_side
        settings = [
            tokenizer_fingerprint(self.tokenizer),
            self.text_column,
            self.max_length,
            self.truncation_side,
        ]
        tokenized = {}
        for split, data in dataset.items():
            data = subsample(data, self.max_samples[split], self.seed)
            # An explicit fingerprint names the cache file, so the same data, tokenizer and settings
            # reuse it in every run. The automatic one hashed objects that differ between runs.
            # NOTE: datasets 5.2 has no public accessor for a dataset's fingerprint. _fingerprint is
            # the attribute that its own transforms chain on.
            tokenized[split] = data.map(
                tokenize,
                batched=True,
                fn_kwargs={
                    "tokenizer": self.tokenizer,
                    "text_column": self.text_column,
                    "max_length": self.max_length,
                },
                remove_columns=[self.text_column],
                new_fingerprint=Hasher.hash([data._fingerprint, *settings]),
                desc=f"Tokenizing {split} (max_length={self.max_length}, truncation {self.truncation_side})",
            )
        sizes = ", ".join(f"{split} {len(data)}" for split, data in tokenized.items())
        rank_zero_info(f"Text data: {sizes} examples; {self.num_classes} classes {self.label_names}")
        return DatasetDict(tokenized)

    def _select_columns(self, dataset: DatasetDict) -> DatasetDict:
        expected = {"text_column": self.text_column, "label_column": self.label_column}
        for split, data in dataset.items():
            missing = {key: column for key, column in expected.items() if column not in data.column_names}
            if missing:
                keys = " and ".join(f"data.{key}" for key in missing)
                raise ValueError(
                    f"Missing columns {list(missing.values())} in the {split!r} split, whose columns are "
                    f"{data.column_names}. Set {keys} to one of them."
                )
        dataset = dataset.select_columns([self.text_column, self.label_column])
        if self.label_column != LABELS:
            dataset = dataset.rename_column(self.label_column, LABELS)
        feature = dataset["train"].features[LABELS]
        if isinstance(feature, Value) and feature.dtype in ("string", "large_string"):
            dataset = dataset.class_encode_column(LABELS)
        return dataset


def tokenize(
    examples: dict[str, list], tokenizer: PreTrainedTokenizerBase, text_column: str, max_length: int
) -> dict[str, list]:
    """Tokenize a batch of texts without padding; the collator pads each batch."""
    return tokenizer(examples[text_column], truncation=True, max_length=max_length)


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase) -> str:
    """Hash what decides the token ids: the tokenizer class, its vocabulary and its settings."""
    settings = repr(sorted(tokenizer.init_kwargs.items()))
    return Hasher.hash([type(tokenizer).__name__, sorted(tokenizer.get_vocab().items()), settings])
