"""Fine-tune pretrained text and image backbones with PyTorch Lightning and Hydra."""
