"""Composition of conf/: every valid model and data pair, and the errors for invalid ones."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CONF_DIR
from hydra import compose, initialize_config_dir
from hydra.errors import MissingConfigException
from omegaconf import DictConfig

from finetune.run import check_config

TEXT_MODELS = ["minilm", "bert"]
TEXT_DATA = ["imdb", "text_files", "hub_text"]
IMAGE_MODELS = ["resnet"]
IMAGE_DATA = ["cifar10", "fashion_mnist", "image_folder"]
ROOT = Path(__file__).resolve().parents[1]


def compose_train(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name="train", overrides=list(overrides))


@pytest.mark.parametrize(
    ("model", "data"),
    [(m, d) for m in TEXT_MODELS for d in TEXT_DATA] + [(m, d) for m in IMAGE_MODELS for d in IMAGE_DATA],
)
def test_valid_pair_composes_and_passes_checks(model, data):
    cfg = compose_train(f"model={model}", f"data={data}")

    check_config(cfg)

    assert cfg.model.backbone._target_.startswith("finetune.backbones.")
    assert cfg.data._target_.startswith("finetune.data.")


@pytest.mark.parametrize(("model", "data"), [(m, d) for m in TEXT_MODELS for d in IMAGE_DATA])
def test_text_model_with_image_data_fails(model, data):
    cfg = compose_train(f"model={model}", f"data={data}")

    with pytest.raises(
        ValueError, match=r"HuggingFaceEncoder takes text input.*ImageClassificationDataModule is image"
    ):
        check_config(cfg)


@pytest.mark.parametrize(("model", "data"), [(m, d) for m in IMAGE_MODELS for d in TEXT_DATA])
def test_image_model_with_text_data_fails(model, data):
    cfg = compose_train(f"model={model}", f"data={data}")

    with pytest.raises(
        ValueError, match=r"TorchvisionBackbone takes image input.*TextClassificationDataModule is text"
    ):
        check_config(cfg)


def test_unknown_monitor_lists_logged_metrics():
    cfg = compose_train("monitor=val/accuracy")

    with pytest.raises(ValueError, match=r"Invalid monitor='val/accuracy'.*'val/acc'"):
        check_config(cfg)


def test_unknown_model_lists_choices():
    with pytest.raises(MissingConfigException, match=r"(?s)model/gpt.*bert\s+minilm\s+resnet"):
        compose_train("model=gpt")


def test_tuned_settings_apply_only_to_their_pair():
    default = compose_train()
    bert = compose_train("model=bert", "data=imdb")

    assert default.data.max_train_samples is not None
    assert "freeze" in default.callbacks
    assert bert.data.max_train_samples is None
    assert "freeze" not in bert.callbacks


def test_head_group_swaps_head():
    cfg = compose_train("model/head=mlp", "model.head.hidden_size=64")

    assert cfg.model.head._target_ == "finetune.heads.MLPHead"
    assert cfg.model.head.hidden_size == 64


def test_help_lists_config_groups():
    result = subprocess.run(
        [sys.executable, "train.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert "model: bert, minilm, resnet" in result.stdout
    assert "data: cifar10, fashion_mnist, hub_text, image_folder, imdb, text_files" in result.stdout


def test_experiment_overrides_model_and_data():
    cfg = compose_train("experiment=bert_imdb_gpu")

    check_config(cfg)

    assert cfg.model.backbone.name == "bert-base-uncased"
    assert cfg.data.max_length == 512
    assert cfg.trainer.accelerator == "gpu"
