"""Text encoders loaded through Hugging Face ``AutoModel``."""

import logging
from typing import ClassVar

from torch import Tensor, nn
from transformers import AutoModel, AutoTokenizer, PreTrainedTokenizerBase

from finetune.backbones.base import Backbone, Modality
from finetune.hub import load_from_hub

log = logging.getLogger(__name__)

POOLINGS = ("cls", "mean")
OFFLINE_ALTERNATIVE = "model=minilm"


class HuggingFaceEncoder(Backbone):
    """Any Hugging Face encoder (BERT, RoBERTa, DistilBERT, MiniLM, ...) with CLS or mean pooling.

    A task head that the checkpoint may contain, such as a sequence classifier trained on other
    labels, is not loaded: ``AutoModel`` builds the bare encoder, and the template's own head sits on
    the pooled features.

    Args:
        name: a Hub id such as ``bert-base-uncased``, or a local model folder.
        pooling: ``cls`` takes the first token's hidden state. ``mean`` averages the hidden states
            of the non-padding tokens, as sentence-transformers models such as MiniLM were trained.

    Raises:
        ValueError: if ``pooling`` is invalid.
        HubUnavailableError: if ``name`` is neither cached nor downloadable.
    """

    modality: ClassVar[Modality] = "text"

    def __init__(self, name: str, pooling: str = "cls") -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(
                f"Invalid pooling {pooling!r}. Choose one of {list(POOLINGS)}, "
                f"for example model.backbone.pooling=mean."
            )
        self.name = name
        self.pooling = pooling
        self.model = load_from_hub(
            AutoModel.from_pretrained, name, "model.backbone.name", OFFLINE_ALTERNATIVE
        )
        # from_pretrained returns the model in eval mode, and Lightning keeps each module's mode, so
        # without this the encoder would fine-tune with dropout off.
        self.model.train()
        # The encoder's own pooler (BERT's dense + tanh on CLS) is unused here. Left in place, its
        # parameters would get no gradient, which DistributedDataParallel reports as an error.
        if getattr(self.model, "pooler", None) is not None:
            self.model.pooler = None
        self.out_features = self.model.config.hidden_size
        self._tokenizer: PreTrainedTokenizerBase | None = None
        log.info(
            "Loaded text encoder %s (%s, %d layers, hidden size %d, %s pooling)",
            name,
            type(self.model).__name__,
            len(self._encoder_layers()),
            self.out_features,
            pooling,
        )

    def forward(self, batch: dict[str, Tensor]) -> Tensor:
        inputs = {key: batch[key] for key in self.preprocessor().model_input_names if key in batch}
        hidden = self.model(**inputs).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)

    def layer_groups(self) -> list[nn.Module]:
        """Return the embeddings followed by each transformer layer."""
        embeddings = getattr(self.model, "embeddings", None)
        if embeddings is None:
            embeddings = self.model.get_input_embeddings()
        return [embeddings, *self._encoder_layers()]

    def _encoder_layers(self) -> nn.ModuleList:
        # Encoders name their layer stack differently (encoder.layer in BERT, transformer.layer in
        # DistilBERT), but it is always the longest ModuleList in the model.
        stacks = [module for module in self.model.modules() if isinstance(module, nn.ModuleList)]
        if not stacks:
            raise ValueError(f"No transformer layer stack (an nn.ModuleList) found in {self.name!r}.")
        return max(stacks, key=len)

    def preprocessor(self) -> PreTrainedTokenizerBase:
        """Return the checkpoint's tokenizer, loaded once."""
        if self._tokenizer is None:
            self._tokenizer = load_from_hub(
                AutoTokenizer.from_pretrained, self.name, "model.backbone.name", OFFLINE_ALTERNATIVE
            )
        return self._tokenizer

    def extra_repr(self) -> str:
        return f"name={self.name!r}, pooling={self.pooling!r}"
