"""End-to-end runs of train.py in a subprocess, as a user runs it."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
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
    logged_hparams = (run_dir / "csv" / "hparams.yaml").read_text()
    assert "num_classes: 2" in logged_hparams
    assert "weight_decay: 0.01" in logged_hparams


@pytest.mark.slow
def test_test_only_run_uses_given_checkpoint(tmp_path, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows)
    data = [
        "data=text_files",
        f"data.dataset.data_files.train={train_csv}",
        "data.max_length=16",
        "data.batch_size=40",
    ]
    trained = run_train(*data, "trainer.max_epochs=1", "test=false", f"hydra.run.dir={tmp_path / 'fit'}")
    checkpoint = tmp_path / "fit" / "checkpoints" / "last.ckpt"

    tested = run_train(*data, "train=false", f"ckpt_path={checkpoint}", f"hydra.run.dir={tmp_path / 'test'}")

    assert trained.returncode == 0, trained.stderr[-3000:]
    assert tested.returncode == 0, tested.stderr[-3000:]
    metrics = json.loads((tmp_path / "test" / "metrics.json").read_text())
    assert 0.0 <= metrics["metrics"]["test/acc"] <= 1.0
    assert metrics["tested_checkpoint"] == str(checkpoint)
    assert metrics["best_score"] is None
    assert f"Restoring states from the checkpoint path at {checkpoint}" in tested.stderr


@pytest.mark.slow
def test_second_run_reads_tokenized_cache(tmp_path, imdb_rows):
    train_csv = write_csv(tmp_path / "train.csv", imdb_rows)
    cache = tmp_path / "datasets_cache"
    overrides = [
        "data=text_files",
        f"data.dataset.data_files.train={train_csv}",
        "data.max_length=16",
        "data.batch_size=40",
        "trainer.max_epochs=1",
        "test=false",
        "callbacks.progress_bar.refresh_rate=0",
    ]

    runs = []
    for name in ("first", "second"):
        result = run_train(
            *overrides, f"hydra.run.dir={tmp_path / name}", env={"HF_DATASETS_CACHE": str(cache)}
        )
        runs.append((result, sorted(cache.rglob("cache-*.arrow"))))

    (first, first_files), (second, second_files) = runs
    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Tokenizing" in first.stderr
    assert "Tokenizing" not in second.stderr
    assert second_files == first_files


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


def test_uncached_hub_dataset_fails_fast_offline(tmp_path):
    result = run_train(
        "data=hub_text",
        "data.dataset.path=fancyzhx/ag_news",
        f"hydra.run.dir={tmp_path / 'run'}",
        env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home")},
        timeout=120,
    )

    assert result.returncode != 0
    assert "'fancyzhx/ag_news' (data.dataset.path) is not in the local Hugging Face cache" in result.stderr
    assert "data=text_files" in result.stderr


@pytest.fixture
def stalled_endpoint():
    """A server on 127.0.0.1 that accepts connections and never responds, like a filtering firewall."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    connections, stop = [], threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connections.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in connections:
        connection.close()
    server.close()


def test_stalled_hub_fails_within_a_minute(tmp_path, stalled_endpoint):
    started = time.monotonic()
    result = run_train(
        "model=bert",
        "data=imdb",
        f"hydra.run.dir={tmp_path / 'run'}",
        env={"HF_ENDPOINT": stalled_endpoint, "HF_HOME": str(tmp_path / "hf_home")},
        timeout=120,
    )
    seconds = time.monotonic() - started

    assert result.returncode != 0
    assert "'bert-base-uncased' (model.backbone.name) is not in the local Hugging Face cache" in result.stderr
    assert seconds < 60


def test_text_model_with_image_data_exits_before_loading(tmp_path):
    result = run_train("model=minilm", "data=cifar10", f"hydra.run.dir={tmp_path / 'run'}", timeout=120)

    assert result.returncode != 0
    assert "takes text input but the data ImageClassificationDataModule is image" in result.stderr
    assert "Loaded text encoder" not in result.stderr
