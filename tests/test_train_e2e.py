"""End-to-end runs of train.py in a subprocess, as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_csv
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def run_train(
    *overrides: str, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "train.py", *overrides],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ | (env or {}),
    )


def make_image_folder(
    root: Path, classes: tuple[str, ...] = ("circle", "square", "stripe"), per_class: int = 12
) -> Path:
    """Write small generated images, one subfolder per class, half of them grayscale."""
    for class_index, name in enumerate(classes):
        folder = root / "train" / name
        folder.mkdir(parents=True)
        for index in range(per_class):
            mode = "L" if index % 2 else "RGB"
            color = (40 + 70 * class_index, 255 - 60 * class_index, 20 * index)
            image = Image.new("RGB", (48, 40), color).convert(mode)
            image.save(folder / f"{index}.png")
    return root


@pytest.mark.slow
def test_text_run_writes_checkpoint_and_test_metric(tmp_path, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows)
    run_dir = tmp_path / "run"

    result = run_train(
        "model=minilm",
        "data=text_files",
        f"data.dataset.data_files.train={train_csv}",
        "data.max_length=32",
        "data.batch_size=8",
        "trainer.max_epochs=1",
        "callbacks.progress_bar.refresh_rate=0",
        f"hydra.run.dir={run_dir}",
    )

    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["test/acc"] <= 1.0
    assert "val/acc" in metrics["metrics"]
    assert Path(metrics["best_checkpoint"]).is_file()
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert metrics["num_classes"] == 2


@pytest.mark.slow
def test_image_run_writes_checkpoint_and_test_metric(tmp_path):
    image_root = make_image_folder(tmp_path / "images")
    run_dir = tmp_path / "run"

    result = run_train(
        "model=resnet",
        "model.backbone.weights=null",
        "data=image_folder",
        f"data.root={image_root}",
        "data.batch_size=8",
        "data.num_workers=0",
        "trainer.max_epochs=1",
        "callbacks.progress_bar.refresh_rate=0",
        f"hydra.run.dir={run_dir}",
    )

    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["test/acc"] <= 1.0
    assert Path(metrics["best_checkpoint"]).is_file()
    assert metrics["num_classes"] == 3


def test_uncached_hub_model_fails_fast_offline(tmp_path):
    result = run_train(
        "model=bert",
        "data=imdb",
        f"hydra.run.dir={tmp_path / 'run'}",
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")},
        timeout=120,
    )

    assert result.returncode != 0
    assert "'bert-base-uncased' (model.backbone.name) is not in the local Hugging Face cache" in result.stderr
    assert "model=minilm" in result.stderr


def test_text_model_with_image_data_exits_before_loading(tmp_path):
    result = run_train("model=minilm", "data=cifar10", f"hydra.run.dir={tmp_path / 'run'}", timeout=120)

    assert result.returncode != 0
    assert "takes text input but the data ImageClassificationDataModule is image" in result.stderr
    assert "Loaded text encoder" not in result.stderr
