"""Fine-tune a pretrained model: ``python train.py model=bert data=imdb``.

Hydra composes ``conf/train.yaml`` with the command-line overrides; ``--help`` lists the config groups
and ``--cfg job`` prints the composed config.
"""

import logging

import hydra
from omegaconf import DictConfig

from finetune.resolvers import register_resolvers
from finetune.run import train

register_resolvers()
log = logging.getLogger("train")


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float:
    try:
        return train(cfg)
    except Exception as error:
        # Hydra prints the traceback to stderr only. This puts the error in the run's train.log too.
        log.error("Run failed: %s: %s", type(error).__name__, error)
        raise


if __name__ == "__main__":
    main()
