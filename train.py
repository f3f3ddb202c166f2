"""Fine-tune a pretrained model: ``python train.py model=bert data=imdb``.

Hydra composes ``conf/train.yaml`` with the command-line overrides; ``--help`` lists the config groups
and ``--cfg job`` prints the composed config.
"""

import hydra
from omegaconf import DictConfig

from finetune.resolvers import register_resolvers
from finetune.run import train

register_resolvers()


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float:
    return train(cfg)


if __name__ == "__main__":
    main()
