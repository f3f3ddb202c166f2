"""Optimizer parameter groups and the learning rate schedule."""

from collections.abc import Iterable

from torch import nn


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Split the trainable parameters into a group with weight decay and one without.

    Biases and normalization weights (every parameter with fewer than two dimensions) get no weight
    decay, as in BERT and most fine-tuning recipes. Frozen parameters (``requires_grad=False``) are
    left out, so a strategy that unfreezes layers later adds them as a new group.

    Returns:
        Parameter groups for a ``torch.optim`` optimizer. Empty groups are dropped.
    """
    decay, no_decay = [], []
    for parameter in _trainable(model.parameters()):
        (decay if parameter.ndim >= 2 else no_decay).append(parameter)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return [group for group in groups if group["params"]]


def _trainable(parameters: Iterable[nn.Parameter]) -> list[nn.Parameter]:
    return [parameter for parameter in parameters if parameter.requires_grad]


def warmup_steps(total_steps: int, warmup_ratio: float) -> int:
    """Return the number of warmup steps for a fraction of the total.

    Raises:
        ValueError: if ``warmup_ratio`` is outside [0, 1).
    """
    if not 0.0 <= warmup_ratio < 1.0:
        raise ValueError(
            f"Invalid model.scheduler.warmup_ratio={warmup_ratio}: it is the fraction of optimizer "
            f"steps spent warming up and must be in [0, 1), for example 0.1."
        )
    return int(total_steps * warmup_ratio)
