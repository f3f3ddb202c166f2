"""TextClassificationDataModule on real IMDB reviews with the real MiniLM tokenizer."""

import functools
import os
import subprocess
import sys

import pytest
from conftest import write_csv
from transformers import AutoTokenizer

from finetune.data import text_sources
from finetune.data.text import TextClassificationDataModule


@pytest.fixture(scope="module")
def tokenizer(minilm_path):
    return AutoTokenizer.from_pretrained(minilm_path)


def make_datamodule(tokenizer, train_csv, **kwargs) -> TextClassificationDataModule:
    source = functools.partial(text_sources.files, data_files={"train": str(train_csv)})
    options = {"max_length": 64, "batch_size": 8, "val_fraction": 0.2, "test_fraction": 0.2} | kwargs
    return TextClassificationDataModule(dataset=source, preprocessor=tokenizer, **options)


def setup(datamodule: TextClassificationDataModule) -> TextClassificationDataModule:
    datamodule.prepare_data()
    datamodule.setup("fit")
    return datamodule


@pytest.mark.parametrize("label_column", ["label", "labels", "sentiment"])
def test_batches_carry_labels_for_any_label_column(tmp_path, tokenizer, imdb_rows, label_column):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows, label_column=label_column)
    datamodule = setup(make_datamodule(tokenizer, train_csv, label_column=label_column))

    batch = next(iter(datamodule.train_dataloader()))

    assert "labels" in batch
    assert set(batch["labels"].tolist()) <= {0, 1}
    assert batch["labels"].shape == (8,)
    if label_column != "labels":
        assert label_column not in batch


def test_batch_width_is_longest_sequence(tmp_path, tokenizer, imdb_rows):
    short_rows = [
        {"text": row["text"][: 20 + 7 * index], "label": row["label"]} for index, row in enumerate(imdb_rows)
    ]
    train_csv = write_csv(tmp_path / "train.csv", short_rows)
    datamodule = setup(make_datamodule(tokenizer, train_csv, max_length=512))

    for batch in datamodule.val_dataloader():
        longest = int(batch["attention_mask"].sum(dim=1).max())
        assert batch["input_ids"].shape[1] == longest
        assert longest < 512


def test_long_reviews_truncate_to_max_length(tmp_path, tokenizer, imdb_rows):
    datamodule = setup(
        make_datamodule(tokenizer, write_csv(tmp_path / "train.csv", imdb_rows), max_length=48)
    )

    batch = next(iter(datamodule.train_dataloader()))

    assert batch["input_ids"].shape[1] == 48


def test_left_truncation_keeps_end_of_review(tmp_path, tokenizer, imdb_rows):
    row = max(imdb_rows, key=lambda row: len(row["text"]))
    datamodule = setup(
        make_datamodule(tokenizer, write_csv(tmp_path / "train.csv", [row] * 10), truncation_side="left")
    )

    input_ids = datamodule.splits["train"][0]["input_ids"]
    expected_tail = tokenizer(row["text"])["input_ids"][-10:]

    assert input_ids[-10:] == expected_tail


def test_splits_carved_with_fixed_seed(tmp_path, tokenizer, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows)
    first = setup(make_datamodule(tokenizer, train_csv))
    second = setup(make_datamodule(tokenizer, train_csv))

    assert len(first.splits["test"]) == 16
    assert len(first.splits["validation"]) == 13
    assert len(first.splits["train"]) == 51
    assert first.splits["validation"]["input_ids"] == second.splits["validation"]["input_ids"]


def test_max_samples_subsample_each_split(tmp_path, tokenizer, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows)
    datamodule = setup(
        make_datamodule(tokenizer, train_csv, max_train_samples=10, max_val_samples=5, max_test_samples=7)
    )

    assert {split: len(data) for split, data in datamodule.splits.items()} == {
        "train": 10,
        "validation": 5,
        "test": 7,
    }


def test_prepare_data_and_setup_tokenize_once(tmp_path, tokenizer, imdb_rows):
    datamodule = make_datamodule(tokenizer, write_csv(tmp_path / "train.csv", imdb_rows))

    datamodule.prepare_data()
    prepared = datamodule.splits
    datamodule.setup("fit")

    assert datamodule.splits is prepared


def test_string_labels_become_class_ids(tmp_path, tokenizer, imdb_rows):
    named_rows = [
        {"text": row["text"], "label": "positive" if row["label"] == "1" else "negative"} for row in imdb_rows
    ]
    datamodule = setup(make_datamodule(tokenizer, write_csv(tmp_path / "train.csv", named_rows)))

    assert datamodule.label_names == ["negative", "positive"]
    assert datamodule.num_classes == 2


def test_missing_column_names_existing_columns(tmp_path, tokenizer, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows, text_column="review")

    with pytest.raises(
        ValueError, match=r"Missing columns \['text'\].*\['review', 'label'\].*Set data.text_column "
    ):
        setup(make_datamodule(tokenizer, train_csv))


def test_missing_columns_reported_together(tmp_path, tokenizer, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows, text_column="review", label_column="sentiment")

    with pytest.raises(ValueError, match=r"\['text', 'label'\].*Set data.text_column and data.label_column"):
        setup(make_datamodule(tokenizer, train_csv))


def test_label_outside_range_names_value(tmp_path, tokenizer, imdb_rows):
    rows = [dict(row) for row in imdb_rows]
    rows[3]["label"] = "7"
    train_csv = write_csv(tmp_path / "train.csv", rows)

    with pytest.raises(ValueError, match=r"Invalid label 7 .*\[0, 2\)"):
        setup(make_datamodule(tokenizer, train_csv, label_names=["negative", "positive"]))


def test_negative_label_names_value(tmp_path, tokenizer, imdb_rows):
    rows = [dict(row) for row in imdb_rows]
    rows[5]["label"] = "-1"

    with pytest.raises(ValueError, match=r"Invalid label -1 "):
        setup(make_datamodule(tokenizer, write_csv(tmp_path / "train.csv", rows)))


def test_max_length_above_tokenizer_limit_fails(tmp_path, tokenizer, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows)

    with pytest.raises(ValueError, match=r"data.max_length=1024.*at most 512"):
        make_datamodule(tokenizer, train_csv, max_length=1024)


def test_missing_data_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.csv"):
        text_sources.files({"train": str(tmp_path / "nothing.csv")})


def test_unsupported_file_suffix_fails(tmp_path):
    path = tmp_path / "train.xml"
    path.write_text("<reviews/>")

    with pytest.raises(ValueError, match=r"\.xml"):
        text_sources.files({"train": str(path)})


def test_imdb_package_source_has_25000_reviews():
    dataset = text_sources.imdb(source="package")

    assert len(dataset["train"]) == 25_000
    assert dataset["train"].features["label"].names == ["neg", "pos"]
    assert sorted(dataset["train"].unique("label")) == [0, 1]


def test_imdb_invalid_source_lists_choices():
    with pytest.raises(ValueError, match=r"'web'.*\['auto', 'hub', 'package'\]"):
        text_sources.imdb(source="web")


def test_imdb_auto_uses_package_when_offline(tmp_path):
    script = (
        "from finetune.data.text_sources import imdb\n"
        "dataset = imdb()\n"
        "print(sorted(dataset), len(dataset['train']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")},
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "['train'] 25000"
