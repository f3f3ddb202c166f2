"""The base class of the text and image DataModules: class names and DataLoaders over the splits."""

from collections.abc import Callable
from typing import Any, ClassVar

import lightning as L
from torch.utils.data import DataLoader, Dataset

from finetune.backbones.base import Modality


class ClassificationDataModule(L.LightningDataModule):
    """A DataModule whose `setup` fills ``splits`` (train, validation, test) and ``label_names``.

    Subclasses set ``collate_fn``, which turns a list of examples into a batch dict with ``labels``.

    Args:
        batch_size: training batch size per device.
        eval_batch_size: validation and test batch size, ``batch_size`` when ``None``.
        num_workers: DataLoader worker processes.
        val_fraction: share of train carved as validation when the source has no such split.
        test_fraction: share of train carved as test when the source has no such split.
        max_train_samples: keep this many training examples at random; ``None`` keeps all.
        max_val_samples: the same for validation.
        max_test_samples: the same for test.
        seed: seed for carving and subsampling, so every run gets the same examples.
    """

    modality: ClassVar[Modality]
    collate_fn: Callable[[list[Any]], dict[str, Any]]

    def __init__(
        self,
        batch_size: int,
        eval_batch_size: int | None,
        num_workers: int,
        val_fraction: float,
        test_fraction: float,
        max_train_samples: int | None,
        max_val_samples: int | None,
        max_test_samples: int | None,
        seed: int,
    ) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size or batch_size
        self.num_workers = num_workers
        self.fractions = {"validation": val_fraction, "test": test_fraction}
        self.max_samples = {
            "train": max_train_samples,
            "validation": max_val_samples,
            "test": max_test_samples,
        }
        self.seed = seed
        self.splits: dict[str, Dataset] | None = None
        self.label_names: list[str] = []

    @property
    def num_classes(self) -> int:
        """Number of classes, known after `setup`."""
        if not self.label_names:
            raise RuntimeError("num_classes is known only after setup() has read the data.")
        return len(self.label_names)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if self.splits is None:
            raise RuntimeError("Call setup() before asking for a DataLoader.")
        return DataLoader(
            self.splits[split],
            batch_size=self.batch_size if shuffle else self.eval_batch_size,
            shuffle=shuffle,
            collate_fn=self.collate_fn,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)
