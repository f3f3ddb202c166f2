"""The LightningModule: backbone, then head, then cross-entropy loss and metrics."""

import logging
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torchmetrics import Accuracy, F1Score, MetricCollection
from transformers import get_scheduler

from finetune.backbones.base import Backbone
from finetune.optim import parameter_groups, warmup_steps

log = logging.getLogger(__name__)

STAGES = ("train", "val", "test")
METRIC_NAMES = ("loss", "acc", "f1")


class ClassificationModule(L.LightningModule):
    """Classify with any backbone: pooled features go through a swappable head to logits.

    The head and the metrics are built in `setup`, once the DataModule has read ``num_classes`` from
    the data, so no config repeats the class count. Validation and test metrics are logged as
    ``val/loss``, ``val/acc`` (accuracy) and ``val/f1`` (macro F1), and ``test/...`` alike.

    Args:
        backbone: the pretrained network.
        head: called as ``head(in_features, num_classes)`` to build the head, such as a
            ``functools.partial`` of `LinearHead`.
        optimizer: called with parameter groups to build the optimizer, such as a partial AdamW.
        scheduler: a ``transformers.get_scheduler`` name (``linear``, ``cosine``, ``constant_with_warmup``,
            ...) with ``warmup_ratio``, the fraction of optimizer steps spent warming up. It steps
            after every optimizer step, and its length is ``trainer.estimated_stepping_batches``.
        weight_decay: decay for weight matrices; biases and norm weights get none.
        num_classes: set when restoring from a checkpoint; otherwise taken from the DataModule.
    """

    def __init__(
        self,
        backbone: Backbone,
        head: Callable[[int, int], nn.Module],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: dict[str, Any] | None = None,
        weight_decay: float = 0.01,
        num_classes: int | None = None,
    ) -> None:
        super().__init__()
        # A plain dict, not Hydra's DictConfig, so checkpoints load with torch.load(weights_only=True).
        scheduler = dict(scheduler) if scheduler is not None else None
        self.save_hyperparameters(ignore=["backbone", "head", "optimizer"])
        self.backbone = backbone
        self.make_head = head
        self.make_optimizer = optimizer
        self.head: nn.Module | None = None
        self.loss = nn.CrossEntropyLoss()
        if num_classes is not None:
            self._build_head(num_classes)

    def _build_head(self, num_classes: int) -> None:
        self.head = self.make_head(self.backbone.out_features, num_classes)
        # Saved again as a whole, so the hyperparameters that loggers record include num_classes.
        self.save_hyperparameters({**self.hparams, "num_classes": num_classes})
        metrics = MetricCollection(
            {
                "acc": Accuracy(task="multiclass", num_classes=num_classes),
                "f1": F1Score(task="multiclass", num_classes=num_classes, average="macro"),
            }
        )
        # One collection per stage, so their states never mix. ModuleDict keys cannot be "train",
        # which nn.Module already defines as a method.
        self.metrics = nn.ModuleDict(
            {f"{stage}_metrics": metrics.clone(prefix=f"{stage}/") for stage in STAGES}
        )

    def setup(self, stage: str) -> None:
        if self.head is not None:
            return
        datamodule = self.trainer.datamodule
        if datamodule is None:
            raise ValueError("ClassificationModule needs a DataModule that provides num_classes.")
        self._build_head(datamodule.num_classes)
        log.info(
            "Built head %s: %d features -> %d classes",
            type(self.head).__name__,
            self.backbone.out_features,
            datamodule.num_classes,
        )

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Return logits of shape ``(batch_size, num_classes)``."""
        return self.head(self.backbone(batch))

    def _step(self, batch: dict[str, Tensor], stage: str) -> Tensor:
        logits = self(batch)
        labels = batch["labels"]
        loss = self.loss(logits, labels)
        on_step = stage == "train"
        batch_size = labels.shape[0]
        self.log(
            f"{stage}/loss",
            loss,
            on_step=on_step,
            on_epoch=True,
            prog_bar=True,
            batch_size=batch_size,
            sync_dist=stage != "train",
        )
        metrics = self.metrics[f"{stage}_metrics"]
        metrics.update(logits.detach(), labels)
        self.log_dict(metrics, on_step=False, on_epoch=True, prog_bar=stage != "train", batch_size=batch_size)
        return loss

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self(batch).softmax(dim=-1)

    def configure_optimizers(self) -> dict[str, Any]:
        # Only trainable parameters go to the optimizer: a freezing callback has already run in its
        # setup hook, which Lightning calls before this method.
        optimizer = self.make_optimizer(parameter_groups(self, self.hparams.weight_decay))
        if self.hparams.scheduler is None:
            return {"optimizer": optimizer}
        settings = dict(self.hparams.scheduler)
        name = settings.pop("name")
        total = int(self.trainer.estimated_stepping_batches)
        warmup = warmup_steps(total, settings.pop("warmup_ratio", 0.0))
        scheduler = get_scheduler(
            name,
            optimizer,
            num_warmup_steps=warmup,
            num_training_steps=total,
            scheduler_specific_kwargs=settings,
        )
        log.info("Scheduler %s: %d warmup steps of %d optimizer steps", name, warmup, total)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    @staticmethod
    def metric_names(stage: str) -> list[str]:
        """Return the names under which a stage's metrics are logged, such as ``val/acc``."""
        return [f"{stage}/{name}" for name in METRIC_NAMES]
