"""Split carving, subsampling and label checks for Hugging Face datasets."""

import logging

from datasets import ClassLabel, Dataset, DatasetDict

log = logging.getLogger(__name__)

LABELS = "labels"


def carve_missing_splits(
    dataset: DatasetDict, val_fraction: float, test_fraction: float, seed: int
) -> DatasetDict:
    """Carve ``validation`` and ``test`` out of ``train`` when the dataset lacks them.

    The carving depends only on ``seed`` and the fractions, so every run, and every process of a
    distributed run, gets the same split.

    Raises:
        ValueError: if there is no ``train`` split, or a fraction needed is outside (0, 1).
    """
    if "train" not in dataset:
        raise ValueError(f"The dataset has no 'train' split; it has {sorted(dataset)}.")
    splits = dict(dataset)
    for split, fraction, key in (
        ("test", test_fraction, "test_fraction"),
        ("validation", val_fraction, "val_fraction"),
    ):
        if split in splits:
            continue
        if not 0.0 < fraction < 1.0:
            raise ValueError(
                f"Invalid data.{key}={fraction}: the dataset has no {split!r} split, so a fraction in (0, 1) "
                f"of train is carved for it, for example data.{key}=0.1."
            )
        carved = splits["train"].train_test_split(
            test_size=fraction, seed=seed, stratify_by_column=_stratify(splits["train"])
        )
        splits["train"], splits[split] = carved["train"], carved["test"]
        log.info("Carved %d examples from train as the %s split (seed %d)", len(splits[split]), split, seed)
    return DatasetDict({split: splits[split] for split in ("train", "validation", "test")})


def _stratify(dataset: Dataset) -> str | None:
    return LABELS if isinstance(dataset.features.get(LABELS), ClassLabel) else None


def subsample(dataset: Dataset, max_samples: int | None, seed: int) -> Dataset:
    """Return ``max_samples`` examples drawn at random with ``seed``, or all of them if it is ``None``."""
    if max_samples is None or max_samples >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(max_samples))


def label_names(dataset: DatasetDict, configured: list[str] | None) -> list[str]:
    """Return the class names from the ``labels`` feature, or from the config for plain integers.

    Raises:
        ValueError: if integer labels come without names and are not 0 .. n-1, or a label value is
            outside ``[0, num_classes)``.
    """
    feature = dataset["train"].features[LABELS]
    if isinstance(feature, ClassLabel):
        names = list(feature.names)
    elif configured is not None:
        names = list(configured)
    else:
        values = sorted(set(dataset["train"].unique(LABELS)))
        names = [str(value) for value in range(max(values) + 1)] if values else []
    num_classes = len(names)
    for split, data in dataset.items():
        for value in data.unique(LABELS):
            if not 0 <= value < num_classes:
                raise ValueError(
                    f"Invalid label {value!r} in the {split!r} split: labels must be integers in "
                    f"[0, {num_classes}) for the classes {names}. Check data.label_column, or set "
                    f"data.label_names to the full list of class names."
                )
    return names
