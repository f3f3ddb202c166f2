"""Loading from the Hugging Face Hub, with a clear error when it is unreachable."""

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

T = TypeVar("T")


class HubUnavailableError(RuntimeError):
    """A model or dataset is neither in the local cache nor downloadable from the Hub."""


def _is_offline_error(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, LocalEntryNotFoundError | OfflineModeIsEnabled | ConnectionError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def load_from_hub(load: Callable[[str], T], name: str, config_key: str, alternative: str) -> T:
    """Call ``load(name)`` and turn a missing connection into a `HubUnavailableError`.

    Args:
        load: a ``from_pretrained``-style loader, such as ``AutoModel.from_pretrained``.
        name: a Hub id or a local folder.
        config_key: the config key that sets ``name``, for the message.
        alternative: an override that works without the Hub, for the message.

    Raises:
        HubUnavailableError: if ``name`` is not cached and the Hub cannot be reached, or
            ``HF_HUB_OFFLINE=1`` is set. Other errors, such as a repository that does not exist,
            pass through unchanged.
    """
    try:
        return load(name)
    except OSError as error:  # transformers raises OSError and datasets ConnectionError, a subclass
        if Path(name).exists() or not _is_offline_error(error):
            raise
        raise HubUnavailableError(
            f"{name!r} ({config_key}) is not in the local Hugging Face cache and could not be downloaded: "
            f"the Hub is unreachable or HF_HUB_OFFLINE=1 is set. Run once with internet access to "
            f"cache it, set {config_key} to a local folder, or use {alternative}, which needs no network."
        ) from error
