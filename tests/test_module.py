"""ClassificationModule, heads and optimizer groups with real text encoders."""

import functools
import math

import pytest
import torch
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from finetune.backbones.huggingface import HuggingFaceEncoder
from finetune.heads import LinearHead, MLPHead
from finetune.module import ClassificationModule
from finetune.optim import parameter_groups, warmup_steps


@pytest.fixture(scope="module")
def two_label_checkpoint(tmp_path_factory, minilm_path) -> str:
    """A small BERT sequence classifier with two labels, saved with the MiniLM tokenizer."""
    folder = tmp_path_factory.mktemp("two_label_bert")
    config = BertConfig(
        vocab_size=30522,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        num_labels=2,
    )
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm_path).save_pretrained(folder)
    return str(folder)


def make_module(backbone, num_classes: int, head=LinearHead) -> ClassificationModule:
    return ClassificationModule(
        backbone=backbone,
        head=head,
        optimizer=functools.partial(torch.optim.AdamW, lr=1e-4),
        scheduler={"name": "linear", "warmup_ratio": 0.1},
        num_classes=num_classes,
    )


def review_batch(backbone: HuggingFaceEncoder, imdb_rows, size: int, num_classes: int) -> dict:
    texts = [row["text"] for row in imdb_rows[:size]]
    batch = dict(
        backbone.preprocessor()(texts, truncation=True, max_length=64, padding=True, return_tensors="pt")
    )
    batch["labels"] = torch.arange(size) % num_classes
    return batch


def test_new_head_first_loss_near_log_num_classes(two_label_checkpoint, imdb_rows):
    backbone = HuggingFaceEncoder(two_label_checkpoint, pooling="cls")
    module = make_module(backbone, num_classes=5).eval()
    batch = review_batch(backbone, imdb_rows, size=20, num_classes=5)

    with torch.no_grad():
        logits = module(batch)
        loss = module.loss(logits, batch["labels"])

    assert logits.shape == (20, 5)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(math.log(5), abs=0.05)


def test_checkpoint_encoder_weights_are_kept(two_label_checkpoint):
    original = BertForSequenceClassification.from_pretrained(two_label_checkpoint)
    backbone = HuggingFaceEncoder(two_label_checkpoint)

    loaded = backbone.model.encoder.layer[1].output.dense.weight
    expected = original.bert.encoder.layer[1].output.dense.weight

    assert torch.equal(loaded, expected)


def test_mean_pooling_ignores_padding(minilm_path):
    backbone = HuggingFaceEncoder(minilm_path, pooling="mean").eval()
    tokenizer = backbone.preprocessor()
    alone = dict(tokenizer(["a fine film"], return_tensors="pt"))
    padded = dict(
        tokenizer(
            ["a fine film", "a much longer review of a rather dull film"], padding=True, return_tensors="pt"
        )
    )

    with torch.no_grad():
        expected = backbone(alone)[0]
        features = backbone(padded)[0]

    assert torch.allclose(features, expected, atol=1e-5)


def test_layer_groups_are_embeddings_then_layers(minilm_path):
    backbone = HuggingFaceEncoder(minilm_path)
    groups = backbone.layer_groups()

    assert len(groups) == 7
    assert groups[0] is backbone.model.embeddings
    assert groups[-1] is backbone.model.encoder.layer[5]


def test_invalid_pooling_lists_choices(minilm_path):
    with pytest.raises(ValueError, match=r"Invalid pooling 'max'.*\['cls', 'mean'\]"):
        HuggingFaceEncoder(minilm_path, pooling="max")


def test_mlp_head_outputs_num_classes():
    head = MLPHead(in_features=16, num_classes=3, hidden_size=8, activation="relu")

    assert head(torch.randn(4, 16)).shape == (4, 3)


def test_mlp_head_invalid_activation_lists_choices():
    with pytest.raises(ValueError, match=r"'swish'.*gelu"):
        MLPHead(in_features=16, num_classes=3, activation="swish")


def test_parameter_groups_skip_frozen_and_decay_matrices_only():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4), torch.nn.Linear(4, 2))
    model[0].requires_grad_(False)

    decay, no_decay = parameter_groups(model, weight_decay=0.05)

    assert decay["params"] == [model[2].weight]
    assert decay["weight_decay"] == 0.05
    assert no_decay["params"] == [model[1].weight, model[1].bias, model[2].bias]
    assert no_decay["weight_decay"] == 0.0


def test_warmup_steps_from_ratio():
    assert warmup_steps(total_steps=250, warmup_ratio=0.1) == 25


def test_warmup_ratio_out_of_range_fails():
    with pytest.raises(ValueError, match=r"warmup_ratio=1.5"):
        warmup_steps(total_steps=250, warmup_ratio=1.5)


def test_encoder_loads_in_train_mode(minilm_path):
    backbone = HuggingFaceEncoder(minilm_path)

    assert all(module.training for module in backbone.modules())
