"""Image classification data: a torchvision dataset or a folder of images, in the backbone's preprocessing."""

import math
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import torch
from lightning.pytorch.utilities import rank_zero_info
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset, random_split
from torchvision import datasets
from torchvision.transforms import v2

from finetune.backbones.base import Modality
from finetune.backbones.torchvision import ImagePreprocessing
from finetune.data.base import ClassificationDataModule

TORCHVISION_DATASETS = {
    "cifar10": datasets.CIFAR10,
    "fashion_mnist": datasets.FashionMNIST,
    "mnist": datasets.MNIST,
}
IMAGE_FOLDER = "image_folder"
DATASET_NAMES = (*TORCHVISION_DATASETS, IMAGE_FOLDER)

# How to place each dataset's files under data.root by hand, in the layout torchvision reads.
OFFLINE_SETUP = {
    "cifar10": "extract cifar-10-python.tar.gz into ROOT, which creates ROOT/cifar-10-batches-py/",
    "fashion_mnist": (
        "the Debian package dataset-fashion-mnist ships the four files in "
        "/usr/share/datasets/fashion-mnist/, so gunzip them into ROOT/FashionMNIST/raw/"
    ),
    "mnist": "gunzip the four MNIST idx files (train-images-idx3-ubyte.gz, ...) into ROOT/MNIST/raw/",
}

IMAGE_FOLDER_LAYOUT = "ROOT/train/CLASS/IMAGE, and optionally ROOT/val/CLASS/IMAGE and ROOT/test/CLASS/IMAGE"
SPLIT_FOLDERS = {"train": "train", "validation": "val", "test": "test"}


def train_transform(preprocessing: ImagePreprocessing, augment: bool) -> v2.Compose:
    """Build the training transform: a random resized crop and a horizontal flip, or `eval_transform`."""
    if not augment:
        return eval_transform(preprocessing)
    return v2.Compose(
        [
            v2.RGB(),
            v2.RandomResizedCrop(
                preprocessing.crop_size, interpolation=preprocessing.interpolation, antialias=True
            ),
            v2.RandomHorizontalFlip(),
            *_to_normalized_tensor(preprocessing),
        ]
    )


def eval_transform(preprocessing: ImagePreprocessing) -> v2.Compose:
    """Build the evaluation transform: resize the shorter side, then take the center crop."""
    return v2.Compose(
        [
            v2.RGB(),
            v2.Resize(preprocessing.resize_size, interpolation=preprocessing.interpolation, antialias=True),
            v2.CenterCrop(preprocessing.crop_size),
            *_to_normalized_tensor(preprocessing),
        ]
    )


def _to_normalized_tensor(preprocessing: ImagePreprocessing) -> list[v2.Transform]:
    return [
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(list(preprocessing.mean), list(preprocessing.std)),
    ]


def collate(examples: list[tuple[Tensor, int]]) -> dict[str, Tensor]:
    """Stack ``(image, label)`` pairs into ``pixel_values`` (B, 3, H, W) and ``labels`` (B,)."""
    images, labels = zip(*examples, strict=True)
    return {"pixel_values": torch.stack(images), "labels": torch.tensor(labels, dtype=torch.long)}


class TransformedSubset(Dataset):
    """The examples at ``indices`` of a dataset of ``(PIL image, label)`` pairs, with ``transform`` applied.

    Training and carved evaluation splits share one loaded dataset and differ only in their indices
    and transform, so the data is read into memory once.
    """

    def __init__(
        self, dataset: Dataset, indices: list[int], transform: Callable[[Image.Image], Tensor]
    ) -> None:
        self.dataset = dataset
        self.indices = indices
        self.transform = transform

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        image, label = self.dataset[self.indices[index]]
        return self.transform(image), label


class ImageClassificationDataModule(ClassificationDataModule):
    """Image classification from CIFAR-10, Fashion-MNIST, MNIST or a folder of images.

    ``prepare_data`` downloads a torchvision dataset once per node, and ``setup`` reads it. Images
    are resized and normalized as the backbone's weights expect, and grayscale images become RGB.
    A split that the source lacks is carved from train with ``seed``, so every run and every process
    gets the same examples, and carved splits get the evaluation transform, not augmentation. Each
    batch is ``{"pixel_values": float (B, 3, crop, crop), "labels": long (B,)}``.

    Args:
        dataset: ``cifar10``, ``fashion_mnist`` or ``mnist`` (torchvision, with train and test
            splits), or ``image_folder`` for one subfolder per class under ``root``'s ``train/``
            and optional ``val/`` and ``test/`` folders.
        root: directory that torchvision downloads into, or the image folder.
        preprocessor: the backbone's input size and normalization, from its ``preprocessor()``.
        batch_size: training batch size per device.
        eval_batch_size: validation and test batch size, ``batch_size`` when ``None``.
        num_workers: DataLoader worker processes.
        augment: random resized crops and horizontal flips for training. When false, training uses
            the evaluation transform.
        val_fraction: share of train carved as validation when the source has no such split.
        test_fraction: share of train carved as test when the source has no such split. Test is
            carved first, and validation from what remains, both rounded up.
        max_train_samples: keep this many training examples at random; ``None`` keeps all.
        max_val_samples: the same for validation.
        max_test_samples: the same for test.
        seed: seed for carving and subsampling.

    Raises:
        ValueError: if ``dataset`` is invalid, a fraction needed is outside (0, 1), or the class
            folders of ``val/`` or ``test/`` differ from those of ``train/``.
        FileNotFoundError: if the image folder or its ``train/`` subfolder does not exist.
        RuntimeError: if a torchvision dataset cannot be downloaded or read.
    """

    modality: ClassVar[Modality] = "image"

    def __init__(
        self,
        dataset: str,
        root: str,
        preprocessor: ImagePreprocessing,
        batch_size: int = 32,
        eval_batch_size: int | None = None,
        num_workers: int = 2,
        augment: bool = True,
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
        if dataset not in DATASET_NAMES:
            raise ValueError(f"Invalid data.dataset={dataset!r}. Choose one of {list(DATASET_NAMES)}.")
        self.dataset_name = dataset
        self.root = Path(root).expanduser()
        self.preprocessing = preprocessor
        self.collate_fn = collate
        self.augment = augment

    def prepare_data(self) -> None:
        if self.dataset_name in TORCHVISION_DATASETS:
            self._torchvision_dataset(train=True, download=True)
            self._torchvision_dataset(train=False, download=True)

    def setup(self, stage: str | None = None) -> None:
        if self.splits is not None:
            return
        if self.dataset_name in TORCHVISION_DATASETS:
            sources = {
                "train": self._torchvision_dataset(train=True, download=False),
                "test": self._torchvision_dataset(train=False, download=False),
            }
        else:
            sources = self._image_folders()
        self.label_names = list(sources["train"].classes)

        indices = self._carve_missing_splits(sources)
        transforms = {
            "train": train_transform(self.preprocessing, self.augment),
            "validation": eval_transform(self.preprocessing),
            "test": eval_transform(self.preprocessing),
        }
        self.splits = {}
        for split, split_indices in indices.items():
            source = sources.get(split, sources["train"])
            kept = _subsample(split_indices, self.max_samples[split], self.seed)
            self.splits[split] = TransformedSubset(source, kept, transforms[split])

        sizes = ", ".join(
            f"{split} {len(data)}" + ("" if split in sources else " (carved from train)")
            for split, data in self.splits.items()
        )
        rank_zero_info(
            f"Image data {self.dataset_name} from {self.root}: {sizes} examples (seed {self.seed}), "
            f"{self.num_classes} classes {self.label_names}, {self.preprocessing.crop_size}-pixel crops, "
            f"augmentation {'on' if self.augment else 'off'}"
        )

    def _torchvision_dataset(self, train: bool, download: bool) -> datasets.VisionDataset:
        dataset_class = TORCHVISION_DATASETS[self.dataset_name]
        try:
            return dataset_class(self.root, train=train, download=download)
        except (OSError, RuntimeError) as error:
            # In torchvision 0.29, CIFAR-10 raises urllib's URLError, an OSError. MNIST and Fashion-MNIST
            # try several mirrors and raise a RuntimeError, as all three do for missing files when
            # download=False.
            action = "downloaded into" if download else "read from"
            manual_setup = OFFLINE_SETUP[self.dataset_name].replace("ROOT", str(self.root))
            raise RuntimeError(
                f"{self.dataset_name} could not be {action} data.root={self.root}: {str(error).strip()}. "
                f"Run once with internet access so that prepare_data() downloads it, or place the files by "
                f"hand: {manual_setup}."
            ) from error

    def _image_folders(self) -> dict[str, datasets.ImageFolder]:
        train_folder = self.root / SPLIT_FOLDERS["train"]
        for folder in (self.root, train_folder):
            if not folder.is_dir():
                raise FileNotFoundError(
                    f"Image folder {folder} not found (data.root={self.root}). Expected the layout "
                    f"{IMAGE_FOLDER_LAYOUT}."
                )
        sources = {}
        for split, folder_name in SPLIT_FOLDERS.items():
            folder = self.root / folder_name
            if folder.is_dir():
                sources[split] = datasets.ImageFolder(folder)
        train_classes = sources["train"].classes
        for split, source in sources.items():
            if source.classes != train_classes:
                raise ValueError(
                    f"The class folders of {self.root / SPLIT_FOLDERS[split]} {source.classes} differ from "
                    f"those of {train_folder} {train_classes}. Every split needs the same class subfolders, "
                    f"because a label is the index of its folder in sorted order."
                )
        return sources

    def _carve_missing_splits(self, sources: dict[str, Dataset]) -> dict[str, list[int]]:
        indices = {split: list(range(len(source))) for split, source in sources.items()}
        for split, key in (("test", "test_fraction"), ("validation", "val_fraction")):
            if split in sources:
                continue
            fraction = self.fractions[split]
            if not 0.0 < fraction < 1.0:
                raise ValueError(
                    f"Invalid data.{key}={fraction}: {self.dataset_name} has no {split!r} split, so a "
                    f"fraction in (0, 1) of train is carved for it, for example data.{key}=0.1."
                )
            remaining = indices["train"]
            carved_size = math.ceil(len(remaining) * fraction)
            if carved_size >= len(remaining):
                raise ValueError(
                    f"Invalid data.{key}={fraction}: carving {carved_size} of the {len(remaining)} training "
                    f"examples for {split!r} leaves none to train on. Lower data.{key} or add images."
                )
            generator = torch.Generator().manual_seed(self.seed)
            kept, carved = random_split(
                remaining, [len(remaining) - carved_size, carved_size], generator=generator
            )
            indices["train"], indices[split] = list(kept), list(carved)
        return {split: indices[split] for split in ("train", "validation", "test")}


def _subsample(indices: list[int], max_samples: int | None, seed: int) -> list[int]:
    if max_samples is None or max_samples >= len(indices):
        return indices
    order = torch.randperm(len(indices), generator=torch.Generator().manual_seed(seed))
    return [indices[position] for position in order[:max_samples].tolist()]
