"""The interface that every backbone implements."""

from typing import Any, ClassVar, Literal

from torch import Tensor, nn

Modality = Literal["text", "image"]


class Backbone(nn.Module):
    """A pretrained network that turns a batch into one pooled feature vector per example.

    The LightningModule, the heads, the optimizer groups and the fine-tuning strategies use only this
    interface, so they work for text and image backbones alike.

    Attributes:
        modality: ``"text"`` or ``"image"``. A class attribute, so the run checks it against the
            data before any weights are loaded.
        out_features: size of the pooled feature vector that the head receives.
    """

    modality: ClassVar[Modality]
    out_features: int

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        """Return pooled features of shape ``(batch_size, out_features)``."""
        raise NotImplementedError

    def layer_groups(self) -> list[nn.Module]:
        """Return the backbone's blocks in order from input to output.

        Freezing, gradual unfreezing and layer-wise learning rates need only this list.
        """
        raise NotImplementedError

    def preprocessor(self) -> Any:
        """Return what the DataModule needs to prepare inputs: a tokenizer or an image preprocessing."""
        raise NotImplementedError
