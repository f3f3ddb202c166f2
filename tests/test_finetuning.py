"""FreezeBottomLayers in a real Trainer with the MiniLM encoder."""

import functools

import lightning as L
import pytest
import torch

from finetune.backbones.huggingface import HuggingFaceEncoder
from finetune.finetuning import FreezeBottomLayers
from finetune.heads import LinearHead
from finetune.module import ClassificationModule


@pytest.fixture
def module(minilm_path) -> ClassificationModule:
    return ClassificationModule(
        backbone=HuggingFaceEncoder(minilm_path),
        head=LinearHead,
        optimizer=functools.partial(torch.optim.AdamW, lr=1e-4),
        num_classes=2,
    )


def attach_trainer(module: ClassificationModule, callback: FreezeBottomLayers) -> L.Trainer:
    trainer = L.Trainer(callbacks=[callback], logger=False, enable_checkpointing=False, accelerator="cpu")
    callback.setup(trainer, module, stage="fit")
    return trainer


def test_freeze_stops_gradients_in_bottom_groups(module):
    attach_trainer(module, FreezeBottomLayers(num_groups=4))
    groups = module.backbone.layer_groups()

    assert not any(parameter.requires_grad for group in groups[:4] for parameter in group.parameters())
    assert all(parameter.requires_grad for group in groups[4:] for parameter in group.parameters())
    assert all(parameter.requires_grad for parameter in module.head.parameters())


def test_freeze_puts_bottom_groups_in_eval_mode(module):
    attach_trainer(module, FreezeBottomLayers(num_groups=2))
    groups = module.backbone.layer_groups()

    assert not any(submodule.training for group in groups[:2] for submodule in group.modules())
    assert all(submodule.training for group in groups[2:] for submodule in group.modules())


def test_optimizer_gets_only_trainable_parameters(module):
    trainer = attach_trainer(module, FreezeBottomLayers(num_groups=4))
    module.trainer = trainer
    module.hparams.scheduler = None

    optimizer = module.configure_optimizers()["optimizer"]
    optimized = {id(parameter) for group in optimizer.param_groups for parameter in group["params"]}
    trainable = {id(parameter) for parameter in module.parameters() if parameter.requires_grad}

    assert optimized == trainable


@pytest.mark.parametrize("num_groups", [-1, 7])
def test_freeze_invalid_num_groups_fails(module, num_groups):
    with pytest.raises(ValueError, match=rf"Invalid num_groups={num_groups} .* 7 layer groups"):
        attach_trainer(module, FreezeBottomLayers(num_groups=num_groups))
