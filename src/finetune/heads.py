"""Classification heads that map pooled backbone features to logits."""

from torch import Tensor, nn

# Standard deviation of the last layer's initial weights. Small logits at the start give a first loss
# close to ln(num_classes), as BERT's classifier initialization does.
OUTPUT_INIT_STD = 0.02


def _init_output_layer(layer: nn.Linear) -> None:
    nn.init.normal_(layer.weight, std=OUTPUT_INIT_STD)
    nn.init.zeros_(layer.bias)


class LinearHead(nn.Module):
    """Dropout followed by one linear layer.

    Args:
        in_features: size of the pooled features, from the backbone's ``out_features``.
        num_classes: number of output logits, from the data.
        dropout: dropout probability applied to the features.
    """

    def __init__(self, in_features: int, num_classes: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(in_features, num_classes)
        _init_output_layer(self.classifier)

    def forward(self, features: Tensor) -> Tensor:
        return self.classifier(self.dropout(features))


ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh, "silu": nn.SiLU}


class MLPHead(nn.Module):
    """A hidden layer with an activation, then a linear layer, with dropout before each.

    Args:
        in_features: size of the pooled features, from the backbone's ``out_features``.
        num_classes: number of output logits, from the data.
        hidden_size: width of the hidden layer.
        dropout: dropout probability before each linear layer.
        activation: one of ``relu``, ``gelu``, ``tanh`` or ``silu``.

    Raises:
        ValueError: if ``activation`` is not one of the names above.
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden_size: int = 512,
        dropout: float = 0.1,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"Invalid head activation {activation!r}. Choose one of {sorted(ACTIVATIONS)}, "
                f"for example model.head.activation=gelu."
            )
        self.layers = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(in_features, hidden_size),
            ACTIVATIONS[activation](),
            nn.Dropout(dropout),
        )
        self.classifier = nn.Linear(hidden_size, num_classes)
        _init_output_layer(self.classifier)

    def forward(self, features: Tensor) -> Tensor:
        return self.classifier(self.layers(features))
