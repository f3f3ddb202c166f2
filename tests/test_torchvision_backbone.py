"""TorchvisionBackbone on real torchvision architectures, built without downloading weights."""

from urllib.error import URLError

import pytest
import torch
import torchvision
from torchvision.models import get_model
from torchvision.transforms import InterpolationMode

from finetune.backbones.torchvision import TorchvisionBackbone
from finetune.heads import LinearHead
from finetune.hub import HubUnavailableError

# Model name -> (name of its ImageNet classifier, size of the features that fed it).
CLASSIFIERS = {
    "resnet18": ("fc", 512),
    "resnet50": ("fc", 2048),
    "mobilenet_v2": ("classifier.1", 1280),
    "efficientnet_b0": ("classifier.1", 1280),
    "vit_b_16": ("heads.head", 768),
}
NUM_CLASSES = 7


@pytest.fixture(scope="module", params=list(CLASSIFIERS))
def built(request) -> tuple[str, TorchvisionBackbone, torch.nn.Module]:
    """A backbone and the unchanged torchvision model, both initialized from the same seed."""
    name = request.param
    torch.manual_seed(0)
    original = get_model(name, weights=None)
    torch.manual_seed(0)
    backbone = TorchvisionBackbone(name, weights=None)
    return name, backbone, original


def test_backbone_with_head_outputs_num_classes(built):
    name, backbone, _ = built
    head = LinearHead(backbone.out_features, NUM_CLASSES)
    backbone.eval()

    with torch.no_grad():
        logits = head(backbone({"pixel_values": torch.randn(2, 3, 224, 224)}))

    assert logits.shape == (2, NUM_CLASSES)


def test_backbone_out_features(built):
    name, backbone, _ = built

    assert backbone.out_features == CLASSIFIERS[name][1]


def test_backbone_keeps_original_weights(built):
    _, backbone, original = built
    original_state = original.state_dict()

    for key, value in backbone.model.state_dict().items():
        assert key in original_state, key
        assert torch.equal(value, original_state[key]), key


def test_backbone_drops_only_classifier(built):
    name, backbone, original = built
    classifier = CLASSIFIERS[name][0]

    missing = set(original.state_dict()) - set(backbone.model.state_dict())

    assert missing == {f"{classifier}.weight", f"{classifier}.bias"}


def test_weights_path_loads_state_dict(tmp_path):
    torch.manual_seed(1)
    original = torchvision.models.resnet18(weights=None)
    path = tmp_path / "resnet18.pth"
    torch.save(original.state_dict(), path)

    torch.manual_seed(2)
    backbone = TorchvisionBackbone("resnet18", weights=None, weights_path=str(path))

    assert torch.equal(backbone.model.conv1.weight, original.conv1.weight)
    assert torch.equal(backbone.model.layer4[1].conv2.weight, original.layer4[1].conv2.weight)


def test_weights_path_missing_file(tmp_path):
    path = tmp_path / "absent.pth"

    with pytest.raises(FileNotFoundError, match="absent.pth"):
        TorchvisionBackbone("resnet18", weights=None, weights_path=str(path))


def test_weights_path_without_classifier_rejected(tmp_path):
    state_dict = torchvision.models.resnet18(weights=None).state_dict()
    del state_dict["fc.weight"], state_dict["fc.bias"]
    path = tmp_path / "headless.pth"
    torch.save(state_dict, path)

    with pytest.raises(ValueError, match="headless.pth") as error:
        TorchvisionBackbone("resnet18", weights=None, weights_path=str(path))

    assert "fc.weight" in str(error.value)


def test_weights_and_weights_path_together_rejected(tmp_path):
    with pytest.raises(ValueError, match="model.backbone.weights_path") as error:
        TorchvisionBackbone("resnet18", weights="DEFAULT", weights_path=str(tmp_path / "resnet18.pth"))

    assert "model.backbone.weights=null" in str(error.value)


def test_invalid_model_name():
    with pytest.raises(ValueError, match="resnet_18") as error:
        TorchvisionBackbone("resnet_18", weights=None)

    assert "list_models" in str(error.value)


def test_invalid_weights_name():
    with pytest.raises(ValueError, match="IMAGENET1K_V9") as error:
        TorchvisionBackbone("resnet18", weights="IMAGENET1K_V9")

    assert "IMAGENET1K_V1" in str(error.value)


def test_model_without_linear_classifier_rejected():
    with pytest.raises(ValueError, match="squeezenet1_1"):
        TorchvisionBackbone("squeezenet1_1", weights=None)


def test_download_failure_names_fixes(tmp_path, monkeypatch):
    # An empty torch hub cache forces a download. Only the network is replaced, so the download
    # fails as it does offline, also on machines that have internet access.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def unreachable(url, *args, **kwargs):
        raise URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", unreachable)

    with pytest.raises(HubUnavailableError) as error:
        TorchvisionBackbone("resnet18", weights="DEFAULT")

    message = str(error.value)
    assert "ResNet18_Weights.IMAGENET1K_V1" in message
    assert str(tmp_path / "hub" / "checkpoints") in message
    assert "model.backbone.weights_path=" in message
    assert "model.backbone.weights=null" in message
    assert isinstance(error.value.__cause__, URLError)


def test_googlenet_drops_auxiliary_classifiers():
    backbone = TorchvisionBackbone("googlenet", weights=None)
    backbone.train()

    features = backbone({"pixel_values": torch.randn(2, 3, 224, 224)})

    assert isinstance(features, torch.Tensor)
    assert features.shape == (2, 1024)


def test_resnet_layer_groups_in_order():
    backbone = TorchvisionBackbone("resnet18", weights=None)
    model = backbone.model
    expected = [model.conv1, model.bn1, model.layer1, model.layer2, model.layer3, model.layer4]

    groups = backbone.layer_groups()

    assert groups == expected


def test_mobilenet_layer_groups_are_features():
    backbone = TorchvisionBackbone("mobilenet_v2", weights=None)

    groups = backbone.layer_groups()

    assert groups == list(backbone.model.features.children())


def test_vit_layer_groups_span_encoder():
    backbone = TorchvisionBackbone("vit_b_16", weights=None)
    model = backbone.model

    groups = backbone.layer_groups()

    assert groups == [model.conv_proj, *model.encoder.layers.children(), model.encoder.ln]


def test_preprocessor_without_weights_uses_default_preset():
    preprocessing = TorchvisionBackbone("resnet18", weights=None).preprocessor()

    assert preprocessing.crop_size == 224
    assert preprocessing.resize_size == 256
    assert preprocessing.mean == (0.485, 0.456, 0.406)
    assert preprocessing.std == (0.229, 0.224, 0.225)
    assert preprocessing.interpolation == InterpolationMode.BILINEAR
