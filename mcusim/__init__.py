"""mcusim: instruction-level Cortex-M simulation and cost estimation for int8 neural networks.

The library (docs/api.md): ``mcusim.run``, ``compare``, ``check``, ``fit``, ``sim``, ``boards``,
``ops``, ``audio_frontend``; they live in :mod:`mcusim.api` and are loaded on first use, so ``import mcusim`` stays cheap.
"""

from typing import Any

__version__ = "0.1.0"

_API = ("run", "compare", "check", "fit", "sim", "boards", "ops", "audio_frontend", "RunReport", "CompareReport",
        "CheckReport", "FitReport", "SimReport", "OpsReport", "FrontendReport")
_ERRORS = ("McusimError", "ModelError", "ToolchainError", "BoardError", "FirmwareFault", "BudgetExceeded",
           "DoesNotFit", "WrongCore")
__all__ = ["__version__", *_API, *_ERRORS]


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import api

        return getattr(api, name)
    if name in _ERRORS:
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'mcusim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
