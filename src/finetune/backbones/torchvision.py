"""Image classification models from torchvision, built by name through its weights enums."""

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import torch
import torchvision
from torch import Tensor, nn
from torchvision.models import WeightsEnum, get_model, get_model_weights, list_models
from torchvision.models.vision_transformer import Encoder
from torchvision.transforms import InterpolationMode

from finetune.backbones.base import Backbone, Modality
from finetune.hub import HubUnavailableError

log = logging.getLogger(__name__)

# Auxiliary classifiers of googlenet (aux1, aux2) and inception_v3 (AuxLogits). Built without
# pretrained weights, these models return extra logits in training mode, so they are dropped, as
# torchvision itself does after it loads pretrained weights.
AUXILIARY_CLASSIFIERS = ("aux1", "aux2", "AuxLogits")

# Top-level containers whose children are the model's stages: ``features`` in MobileNet, EfficientNet,
# ConvNeXt, Swin, VGG and DenseNet, ``trunk_output`` in RegNet and ``blocks`` in MaxViT.
STAGE_CONTAINERS = ("features", "trunk_output", "blocks")


@dataclass(frozen=True)
class ImagePreprocessing:
    """Input size and normalization that a model's pretrained weights expect."""

    resize_size: int  # length in pixels of the shorter image side after resizing, before the center crop
    crop_size: int  # side in pixels of the square crop that the model takes as input
    mean: tuple[float, float, float]  # per-channel RGB mean of pixel values scaled to [0, 1]
    std: tuple[float, float, float]  # per-channel RGB standard deviation on the same scale
    interpolation: InterpolationMode  # resampling filter for resizing

    @classmethod
    def from_weights(cls, weights: WeightsEnum) -> "ImagePreprocessing":
        """Read the values from the ``ImageClassification`` preset of a torchvision weights enum member."""
        preset = weights.transforms()
        return cls(
            resize_size=preset.resize_size[0],
            crop_size=preset.crop_size[0],
            mean=tuple(preset.mean),
            std=tuple(preset.std),
            interpolation=preset.interpolation,
        )


class TorchvisionBackbone(Backbone):
    """Any torchvision classification model (ResNet, MobileNet, EfficientNet, ConvNeXt, ViT, ...).

    The model's last ``nn.Linear``, its ImageNet classifier whatever the architecture calls it, is
    replaced by ``nn.Identity``, so `forward` returns the features that fed it. Every other weight is
    kept as loaded.

    Args:
        name: a model name from ``torchvision.models.list_models(module=torchvision.models)``,
            such as ``resnet50``.
        weights: ``DEFAULT`` for the best ImageNet weights, a member name of the model's weights
            enum such as ``IMAGENET1K_V1``, or ``None`` for random initialization.
        weights_path: a local file with the state dict of the full torchvision model, including
            its 1000-class classifier, such as a copy of a file from the torch hub cache. Only
            valid with ``weights=None``.

    Raises:
        ValueError: if ``name`` or ``weights`` is invalid, both ``weights`` and ``weights_path``
            are set, the file's keys or shapes do not match the model, or the model has no
            ``nn.Linear`` classifier (squeezenet).
        FileNotFoundError: if ``weights_path`` does not exist.
        HubUnavailableError: if the weights are not in the torch hub cache and cannot be
            downloaded.
    """

    modality: ClassVar[Modality] = "image"

    def __init__(self, name: str, weights: str | None = "DEFAULT", weights_path: str | None = None) -> None:
        super().__init__()
        weights_enum = _weights_enum(name)
        if weights is not None and weights_path is not None:
            raise ValueError(
                f"model.backbone.weights={weights!r} and model.backbone.weights_path={weights_path!r} are "
                f"both set. To load the local file, also set model.backbone.weights=null. To use "
                f"torchvision's weights, remove model.backbone.weights_path."
            )
        self.name = name
        self.weights = None if weights is None else _weights_member(weights_enum, weights)
        self.weights_path = weights_path

        if weights_path is not None:
            model = get_model(name, weights=None)
            _load_state_dict(model, Path(weights_path), name)
            source = f"state dict {weights_path}"
        elif self.weights is not None:
            model = _download_pretrained(name, self.weights)
            source = f"{self.weights} from the torch hub cache"
        else:
            model = get_model(name, weights=None)
            source = "random initialization"
        _drop_auxiliary_classifiers(model)
        self.out_features = _remove_classifier(model, name)
        self.model = model

        # Without torchvision weights there is no preset of their own, so the architecture's
        # default weights supply the input size and normalization.
        self._preprocessing_weights = self.weights or weights_enum.DEFAULT
        log.info(
            "Loaded image model %s (%s, %d features, preprocessing of %s)",
            name,
            source,
            self.out_features,
            self._preprocessing_weights,
        )

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        return self.model(batch["pixel_values"])

    def layer_groups(self) -> list[nn.Module]:
        """Return the blocks that contain parameters, from input to output.

        The top-level containers named in `STAGE_CONTAINERS` and a ViT encoder are expanded into
        their blocks. Other top-level children, such as ResNet's ``conv1``, ``bn1`` and ``layer1``
        to ``layer4``, are one group each.
        """
        groups: list[nn.Module] = []
        for child_name, child in self.model.named_children():
            if child_name in STAGE_CONTAINERS and isinstance(child, nn.Sequential | nn.ModuleList):
                groups.extend(child.children())
            elif isinstance(child, Encoder):
                # NOTE: ViT's class_token and encoder.pos_embedding are parameters, not modules, so
                # they belong to no group and freezing by groups leaves them trainable.
                groups.extend(child.layers.children())
                groups.append(child.ln)
            else:
                groups.append(child)
        return [group for group in groups if _has_parameters(group)]

    def preprocessor(self) -> ImagePreprocessing:
        """Return the input size and normalization of the loaded weights, or of the default weights."""
        return ImagePreprocessing.from_weights(self._preprocessing_weights)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, weights={self.weights}, weights_path={self.weights_path!r}"


def _weights_enum(name: str) -> type[WeightsEnum]:
    models = list_models(module=torchvision.models)
    if name not in models:
        raise ValueError(
            f"Invalid model.backbone.name={name!r}: not a torchvision classification model. Valid names "
            f"include resnet18, resnet50, mobilenet_v3_large, efficientnet_b0, convnext_tiny and vit_b_16. "
            f"torchvision.models.list_models(module=torchvision.models) returns all {len(models)}."
        )
    return get_model_weights(name)


def _weights_member(weights_enum: type[WeightsEnum], weights: str) -> WeightsEnum:
    # Accept both IMAGENET1K_V1 and the full ResNet18_Weights.IMAGENET1K_V1.
    member_name = weights.removeprefix(f"{weights_enum.__name__}.")
    if member_name not in weights_enum.__members__:
        raise ValueError(
            f"Invalid model.backbone.weights={weights!r}: {weights_enum.__name__} has the members "
            f"{list(weights_enum.__members__)}. Choose one, or model.backbone.weights=null for random "
            f"initialization."
        )
    return weights_enum[member_name]


def _download_pretrained(name: str, weights: WeightsEnum) -> nn.Module:
    # NOTE: torch.hub downloads without a timeout, so on a network that drops packets instead of
    # refusing connections, this waits for the operating system's connect timeout.
    try:
        return get_model(name, weights=weights)
    except OSError as error:  # urllib's URLError and HTTPError are OSErrors
        cache = Path(torch.hub.get_dir()) / "checkpoints"
        file_name = Path(urlparse(weights.url).path).name
        raise HubUnavailableError(
            f"{weights} ({file_name}) is not in the torch hub cache {cache} and could not be downloaded "
            f"from {weights.url}: {error}. Run once with internet access to cache it, or copy {file_name} "
            f"into {cache}. To load a local copy instead, set model.backbone.weights=null and "
            f"model.backbone.weights_path=/path/to/state_dict.pth. To train from random initialization, set "
            f"only model.backbone.weights=null."
        ) from error


def _load_state_dict(model: nn.Module, path: Path, name: str) -> None:
    if not path.is_file():
        raise FileNotFoundError(
            f"model.backbone.weights_path={str(path)!r} not found. Set it to a state dict file of the full "
            f"{name} model, such as one saved with torch.save(model.state_dict(), path)."
        )
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ValueError(
            f"{path} (model.backbone.weights_path) is not a plain state dict: {error}. Save one with "
            f"torch.save(model.state_dict(), path)."
        ) from error
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as error:
        raise ValueError(
            f"The state dict in {path} (model.backbone.weights_path) does not match torchvision's {name}: "
            f"{error}. The file must hold the full {name} model, including its 1000-class classifier, "
            f"such as {name}'s file from the torch hub cache."
        ) from error


def _has_parameters(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def _drop_auxiliary_classifiers(model: nn.Module) -> None:
    if not getattr(model, "aux_logits", False):
        return
    model.aux_logits = False
    for attribute in AUXILIARY_CLASSIFIERS:
        if hasattr(model, attribute):
            setattr(model, attribute, None)


def _remove_classifier(model: nn.Module, name: str) -> int:
    """Replace the model's last ``nn.Linear`` with ``nn.Identity`` and return its ``in_features``."""
    linears = [
        (module_name, module)
        for module_name, module in model.named_modules()
        if isinstance(module, nn.Linear)
    ]
    if not linears:
        raise ValueError(
            f"Invalid model.backbone.name={name!r}: its classifier is not an nn.Linear layer (squeezenet "
            f"ends in a convolution), so it cannot be replaced by a head. Choose another model, such as "
            f"mobilenet_v3_small or resnet18."
        )
    classifier_name, classifier = linears[-1]
    parent_name, _, attribute = classifier_name.rpartition(".")
    setattr(model.get_submodule(parent_name), attribute, nn.Identity())
    return classifier.in_features
