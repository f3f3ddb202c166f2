"""Fine-tuning strategies as Lightning callbacks that act on ``backbone.layer_groups()``."""

import logging

import lightning as L
from lightning.pytorch.callbacks import BaseFinetuning
from torch.nn.modules.batchnorm import _BatchNorm
from torch.optim import Optimizer

log = logging.getLogger(__name__)


class FreezeBottomLayers(BaseFinetuning):
    """Freeze the backbone's first ``num_groups`` layer groups for the whole run.

    The frozen groups get no gradient and no optimizer state, and they are put in eval mode, so
    their dropout is off and they act as a fixed feature extractor. Because they sit at the input
    end, autograd also skips the backward pass through them, so each training step costs less.

    Example::

        trainer = Trainer(callbacks=[FreezeBottomLayers(num_groups=4)])

    Args:
        num_groups: how many groups of ``backbone.layer_groups()`` to freeze, counted from the input.
            For a BERT-style encoder, group 0 is the embeddings and group ``i`` is layer ``i - 1``.
        train_bn: keep batch normalization layers in the frozen groups trainable.

    Raises:
        ValueError: if ``num_groups`` is negative or not smaller than the number of groups, since
            freezing every group leaves only the head to train.
    """

    def __init__(self, num_groups: int, train_bn: bool = True) -> None:
        super().__init__()
        self.num_groups = num_groups
        self.train_bn = train_bn

    def freeze_before_training(self, pl_module: L.LightningModule) -> None:
        groups = pl_module.backbone.layer_groups()
        if not 0 <= self.num_groups < len(groups):
            raise ValueError(
                f"Invalid num_groups={self.num_groups} for FreezeBottomLayers: the backbone has "
                f"{len(groups)} layer groups, so use a value from 0 to {len(groups) - 1}."
            )
        frozen = groups[: self.num_groups]
        self.freeze(frozen, train_bn=self.train_bn)
        for group in frozen:
            group.eval()
            if self.train_bn:
                for module in group.modules():
                    if isinstance(module, _BatchNorm):
                        module.train()
        log.info(
            "Froze %d of %d backbone layer groups in eval mode (callbacks.freeze.num_groups)",
            self.num_groups,
            len(groups),
        )

    def finetune_function(self, pl_module: L.LightningModule, epoch: int, optimizer: Optimizer) -> None:
        """Leave the frozen groups frozen: this strategy unfreezes nothing."""
