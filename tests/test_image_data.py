"""ImageClassificationDataModule on a generated folder of PNG images."""

import urllib.request
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import InterpolationMode

from finetune.backbones.torchvision import ImagePreprocessing
from finetune.data.image import ImageClassificationDataModule, eval_transform, train_transform

CLASSES = ["cat", "dog", "fox"]
IMAGES_PER_CLASS = 12
PREPROCESSING = ImagePreprocessing(
    resize_size=40,
    crop_size=32,
    mean=(0.5, 0.5, 0.5),
    std=(0.25, 0.25, 0.25),
    interpolation=InterpolationMode.BILINEAR,
)


def write_images(folder: Path, classes: list[str], count: int) -> None:
    """Write ``count`` random PNG images per class, every third one grayscale, in varied sizes."""
    generator = np.random.default_rng(0)
    for class_name in classes:
        (folder / class_name).mkdir(parents=True)
        for index in range(count):
            height, width = 36 + index, 48 - index
            if index % 3 == 0:
                image = Image.fromarray(generator.integers(0, 256, (height, width), dtype=np.uint8), mode="L")
            else:
                image = Image.fromarray(
                    generator.integers(0, 256, (height, width, 3), dtype=np.uint8), mode="RGB"
                )
            image.save(folder / class_name / f"{index}.png")


@pytest.fixture
def image_root(tmp_path) -> Path:
    root = tmp_path / "images"
    write_images(root / "train", CLASSES, IMAGES_PER_CLASS)
    return root


def make_datamodule(root: Path, **kwargs) -> ImageClassificationDataModule:
    options = {"batch_size": 4, "num_workers": 0, "val_fraction": 0.25, "test_fraction": 0.25} | kwargs
    return ImageClassificationDataModule(
        dataset="image_folder", root=str(root), preprocessor=PREPROCESSING, **options
    )


def setup(datamodule: ImageClassificationDataModule) -> ImageClassificationDataModule:
    datamodule.prepare_data()
    datamodule.setup("fit")
    return datamodule


def test_batch_has_pixel_values_and_labels(image_root):
    batch = next(iter(setup(make_datamodule(image_root)).train_dataloader()))

    assert set(batch) == {"pixel_values", "labels"}


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_pixel_values_are_rgb_crops(image_root, split):
    datamodule = setup(make_datamodule(image_root))
    loader = {
        "train": datamodule.train_dataloader,
        "validation": datamodule.val_dataloader,
        "test": datamodule.test_dataloader,
    }[split]()

    pixel_values = next(iter(loader))["pixel_values"]

    assert pixel_values.shape == (4, 3, 32, 32)
    assert pixel_values.dtype == torch.float32


def test_labels_are_long_class_indices(image_root):
    datamodule = setup(make_datamodule(image_root))

    labels = torch.cat([batch["labels"] for batch in datamodule.train_dataloader()])

    assert labels.dtype == torch.long
    assert labels.min() >= 0
    assert labels.max() < datamodule.num_classes


def test_classes_from_folder_names(image_root):
    datamodule = setup(make_datamodule(image_root))

    assert datamodule.num_classes == 3
    assert datamodule.label_names == CLASSES


def test_carved_split_sizes(image_root):
    datamodule = setup(make_datamodule(image_root))
    sizes = {split: len(data) for split, data in datamodule.splits.items()}

    # 36 images: test takes ceil(0.25 * 36) = 9, validation ceil(0.25 * 27) = 7 of the rest.
    assert sizes == {"train": 20, "validation": 7, "test": 9}


def test_carved_splits_do_not_overlap(image_root):
    splits = setup(make_datamodule(image_root)).splits

    train, validation, test = (set(splits[split].indices) for split in ("train", "validation", "test"))

    assert not train & validation
    assert not train & test
    assert not validation & test
    assert len(train | validation | test) == len(CLASSES) * IMAGES_PER_CLASS


def test_split_same_for_same_seed(image_root):
    first = setup(make_datamodule(image_root, seed=7)).splits
    second = setup(make_datamodule(image_root, seed=7)).splits

    for split in ("train", "validation", "test"):
        assert first[split].indices == second[split].indices, split


def test_split_differs_for_other_seed(image_root):
    first = setup(make_datamodule(image_root, seed=7)).splits
    second = setup(make_datamodule(image_root, seed=8)).splits

    assert first["validation"].indices != second["validation"].indices


def test_carved_validation_is_not_augmented(image_root):
    validation = setup(make_datamodule(image_root, augment=True)).splits["validation"]

    first, _ = validation[0]
    second, _ = validation[0]

    assert torch.equal(first, second)


def test_max_train_samples_subsamples(image_root):
    datamodule = setup(make_datamodule(image_root, max_train_samples=5))

    assert len(datamodule.splits["train"]) == 5
    assert len(datamodule.splits["validation"]) == 7


def test_val_folder_used_instead_of_carving(image_root):
    write_images(image_root / "val", CLASSES, 2)
    datamodule = setup(make_datamodule(image_root))

    assert len(datamodule.splits["validation"]) == 6
    assert len(datamodule.splits["test"]) == 9
    assert len(datamodule.splits["train"]) == 27


@pytest.mark.parametrize(
    "transform",
    [train_transform(PREPROCESSING, augment=True), eval_transform(PREPROCESSING)],
    ids=["train", "eval"],
)
def test_grayscale_image_becomes_rgb(transform):
    pixel_values = transform(Image.new("L", (28, 28), color=128))

    assert pixel_values.shape == (3, 32, 32)


def test_mismatched_class_folders_rejected(image_root):
    write_images(image_root / "val", CLASSES[:2], 2)

    with pytest.raises(ValueError, match="val") as error:
        setup(make_datamodule(image_root))

    assert str(CLASSES[:2]) in str(error.value)
    assert str(CLASSES) in str(error.value)


def test_missing_root_rejected(tmp_path):
    root = tmp_path / "absent"

    with pytest.raises(FileNotFoundError, match="absent") as error:
        setup(make_datamodule(root))

    assert "ROOT/train/CLASS/IMAGE" in str(error.value)


def test_missing_train_folder_rejected(tmp_path):
    write_images(tmp_path / "val", CLASSES, 2)

    with pytest.raises(FileNotFoundError, match="train"):
        setup(make_datamodule(tmp_path))


def test_invalid_dataset_name_rejected(tmp_path):
    with pytest.raises(ValueError, match="cifar100") as error:
        ImageClassificationDataModule(dataset="cifar100", root=str(tmp_path), preprocessor=PREPROCESSING)

    assert "image_folder" in str(error.value)


def test_download_failure_names_offline_fix(tmp_path, monkeypatch):
    # The network is the one thing replaced, so the download fails as it does offline everywhere.
    def unreachable(*args, **kwargs):
        raise URLError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", unreachable)
    datamodule = ImageClassificationDataModule(
        dataset="fashion_mnist", root=str(tmp_path), preprocessor=PREPROCESSING
    )

    with pytest.raises(RuntimeError, match="fashion_mnist") as error:
        datamodule.prepare_data()

    message = str(error.value)
    assert str(tmp_path) in message
    assert "dataset-fashion-mnist" in message
    assert f"{tmp_path}/FashionMNIST/raw/" in message
