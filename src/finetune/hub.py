"""Loading from the Hugging Face Hub, with a fast, clear error when it is unreachable."""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from huggingface_hub import HfApi, try_to_load_from_cache
from huggingface_hub import constants as hub_constants
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled

log = logging.getLogger(__name__)

T = TypeVar("T")
RepoType = Literal["model", "dataset"]

# Seconds to wait for the Hub's response to one metadata request. A download retries several times
# with backoff, so this request finds a stalled connection before a download would wait on it.
PROBE_TIMEOUT = 10.0

# A file that every cached model and dataset repository has, to tell whether one is cached.
CACHE_MARKERS = {"model": "config.json", "dataset": "README.md"}


class HubUnavailableError(RuntimeError):
    """A model or dataset is neither in the local cache nor downloadable from the Hub."""


def hub_reachable(repo_id: str, repo_type: RepoType = "model") -> bool:
    """Ask the Hub once for a repository's metadata, with `PROBE_TIMEOUT` and no retries.

    Returns:
        ``True`` if the Hub responded, even with an error status such as 401 for a gated repository
        or 404 for a missing one, which the loader then reports. ``False`` if no response came.
    """
    try:
        HfApi().repo_info(repo_id, repo_type=repo_type, timeout=PROBE_TIMEOUT)
    except HfHubHTTPError:
        return True
    except Exception as error:  # noqa: BLE001
        # The transport error classes depend on huggingface_hub's HTTP client (requests before
        # 1.0, httpx since), so every other exception counts as no response, and is logged.
        log.info(
            "The Hugging Face Hub (%s) did not respond for %s: %r",
            hub_constants.ENDPOINT,
            repo_id,
            error,
        )
        return False
    return True


def _is_cached(repo_id: str, repo_type: RepoType) -> bool:
    return isinstance(try_to_load_from_cache(repo_id, CACHE_MARKERS[repo_type], repo_type=repo_type), str)


def _is_offline_error(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, LocalEntryNotFoundError | OfflineModeIsEnabled | ConnectionError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def load_from_hub(
    load: Callable[[str], T],
    name: str,
    config_key: str,
    alternative: str,
    repo_type: RepoType = "model",
) -> T:
    """Call ``load(name)`` and turn a missing connection into a `HubUnavailableError`.

    A Hub id that is not cached is first checked with `hub_reachable`, so an unreachable or
    stalled Hub fails within `PROBE_TIMEOUT` seconds instead of after the loader's retries.

    Args:
        load: a ``from_pretrained``-style loader, such as ``AutoModel.from_pretrained``.
        name: a Hub id or a local folder.
        config_key: the config key that sets ``name``, for the message.
        alternative: an override that works without the Hub, for the message.
        repo_type: ``model`` or ``dataset``.

    Raises:
        HubUnavailableError: if ``name`` is not cached and the Hub cannot be reached, or
            ``HF_HUB_OFFLINE=1`` is set. Other errors, such as a repository that does not exist,
            pass through unchanged.
    """
    message = (
        f"{name!r} ({config_key}) is not in the local Hugging Face cache and could not be downloaded: "
        f"the Hub is unreachable or HF_HUB_OFFLINE=1 is set. Run once with internet access to "
        f"cache it, set {config_key} to a local folder, or use {alternative}, which needs no network."
    )
    local = Path(name).exists()
    if not local and not hub_constants.HF_HUB_OFFLINE and not _is_cached(name, repo_type):
        if not hub_reachable(name, repo_type):
            raise HubUnavailableError(message)
    try:
        return load(name)
    except OSError as error:  # transformers raises OSError and datasets ConnectionError, a subclass
        if local or not _is_offline_error(error):
            raise
        raise HubUnavailableError(message) from error
