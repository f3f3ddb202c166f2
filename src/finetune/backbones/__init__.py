"""Pretrained backbones: Hugging Face text encoders (`huggingface`) and torchvision image models
(`torchvision`), both implementing the `base.Backbone` interface."""
