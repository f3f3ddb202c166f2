"""The training recipe: build everything from the composed config, fit, test, write results."""

import json
import logging
import math
import time
from pathlib import Path

import lightning as L
from hydra.utils import get_class, instantiate
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.loggers import Logger
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> float:
    """Fine-tune and test the model that ``cfg`` describes, and return the monitored metric.

    Writes checkpoints, logs and ``metrics.json`` under ``cfg.paths.output_dir``. The return value is
    the best ``cfg.monitor`` value seen in validation, which Hydra sweepers optimize, or NaN for a
    test-only run (``train=false``).

    Raises:
        ValueError: if the backbone and the data have different modalities, or ``cfg.monitor`` is
            not a metric the module logs. Both are checked before any weights or data are loaded.
    """
    started = time.perf_counter()
    check_config(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)

    log.info("Instantiating backbone <%s>", cfg.model.backbone._target_)
    backbone = instantiate(cfg.model.backbone)

    log.info("Instantiating datamodule <%s>", cfg.data._target_)
    datamodule = instantiate(cfg.data, preprocessor=backbone.preprocessor())

    log.info("Instantiating model <%s>", cfg.model._target_)
    model = instantiate(cfg.model, backbone=backbone)

    callbacks = instantiate_group(cfg.get("callbacks"), Callback, "callbacks")
    loggers = instantiate_group(cfg.get("logger"), Logger, "logger")

    log.info("Instantiating trainer <%s>", cfg.trainer._target_)
    trainer: L.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    log.info(
        "Trainer: %s x %d device(s), precision %s, strategy %s",
        type(trainer.accelerator).__name__,
        trainer.num_devices,
        trainer.precision,
        type(trainer.strategy).__name__,
    )
    log.info("Run directory: %s", cfg.paths.output_dir)

    # callback_metrics contains the last logged values of the latest stage, so fit's are kept before test.
    metrics: dict[str, float] = {}
    if cfg.get("train"):
        log.info("Training (train=true), resuming from ckpt_path=%s", cfg.get("ckpt_path"))
        trainer.fit(model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        metrics |= {name: float(value) for name, value in trainer.callback_metrics.items()}

    tested_checkpoint = None
    if cfg.get("test"):
        tested_checkpoint = best_checkpoint(trainer, cfg)
        log.info("Testing (test=true) with checkpoint %s", tested_checkpoint or "none: the current weights")
        trainer.test(model, datamodule=datamodule, ckpt_path=tested_checkpoint)
        metrics |= {name: float(value) for name, value in trainer.callback_metrics.items()}

    if cfg.get("train"):
        monitored = monitored_value(trainer, cfg.monitor, metrics)
    else:
        log.info("No training (train=false), so there is no %s to return; returning nan", cfg.monitor)
        monitored = float("nan")
    write_metrics(cfg, trainer, metrics, monitored, tested_checkpoint, time.perf_counter() - started)
    return monitored


def check_config(cfg: DictConfig) -> None:
    """Catch a backbone/data modality mismatch and an unknown monitored metric before loading anything."""
    backbone_class = get_class(cfg.model.backbone._target_)
    data_class = get_class(cfg.data._target_)
    if backbone_class.modality != data_class.modality:
        raise ValueError(
            f"The backbone {backbone_class.__name__} takes {backbone_class.modality} input but the data "
            f"{data_class.__name__} is {data_class.modality}. Pair a text model (model=minilm, model=bert) "
            f"with text data (data=imdb, data=hub_text, data=text_files), or an image model "
            f"(model=resnet) with image data (data=cifar10, data=fashion_mnist, data=image_folder)."
        )
    valid = get_class(cfg.model._target_).metric_names("val")
    if cfg.monitor not in valid:
        raise ValueError(
            f"Invalid monitor={cfg.monitor!r}: the model logs {valid}. Set monitor to one of them."
        )


def instantiate_group(group: DictConfig | None, expected: type, key: str) -> list:
    """Instantiate every entry of a config group such as ``callbacks``, logging each one."""
    objects = []
    for name, entry in (group or {}).items():
        if not isinstance(entry, DictConfig) or "_target_" not in entry:
            raise ValueError(
                f"Invalid {key}.{name}: each entry needs a _target_ naming a {expected.__name__} class."
            )
        log.info("Instantiating %s.%s <%s>", key, name, entry._target_)
        objects.append(instantiate(entry))
    return objects


def best_checkpoint(trainer: L.Trainer, cfg: DictConfig) -> str | None:
    """Return the best checkpoint of this run, or ``cfg.ckpt_path`` for a test-only run.

    Raises:
        RuntimeError: if a checkpoint callback is configured but saved no best checkpoint, so the
            test would silently use other weights than the selected ones.
    """
    if not cfg.get("train"):
        return cfg.get("ckpt_path")
    callback = trainer.checkpoint_callback
    if not isinstance(callback, ModelCheckpoint):
        log.warning("No ModelCheckpoint callback is configured, so the test uses the final weights.")
        return None
    if not callback.best_model_path:
        raise RuntimeError(
            f"No best checkpoint was saved for monitor={cfg.monitor!r}, so there is nothing to test. "
            f"Check that validation ran (trainer.limit_val_batches, trainer.check_val_every_n_epoch)."
        )
    return callback.best_model_path


def monitored_value(trainer: L.Trainer, monitor: str, metrics: dict[str, float]) -> float:
    """Return the best validated value of ``monitor``, or its last value when nothing tracked the best."""
    callback = trainer.checkpoint_callback
    if isinstance(callback, ModelCheckpoint) and callback.best_model_score is not None:
        return float(callback.best_model_score)
    if monitor not in metrics:
        raise RuntimeError(f"Metric {monitor!r} was never logged. The logged metrics are {sorted(metrics)}.")
    return metrics[monitor]


@rank_zero_only
def write_metrics(
    cfg: DictConfig,
    trainer: L.Trainer,
    metrics: dict[str, float],
    monitored: float,
    tested_checkpoint: str | None,
    seconds: float,
) -> None:
    """Write the final metrics and where the best checkpoint is to ``metrics.json`` in the run directory."""
    callback = trainer.checkpoint_callback
    result = {
        "monitor": cfg.monitor,
        "best_score": None if math.isnan(monitored) else monitored,  # strict JSON has no NaN
        "best_checkpoint": getattr(callback, "best_model_path", None) or None,
        "tested_checkpoint": tested_checkpoint,
        "metrics": dict(sorted(metrics.items())),
        "num_classes": trainer.lightning_module.hparams.get("num_classes"),
        "seconds": round(seconds, 1),
    }
    path = Path(cfg.paths.output_dir) / "metrics.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    log.info("Wrote %s: %s=%.4f", path, cfg.monitor, monitored)
