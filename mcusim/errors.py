"""The one exception family of mcusim.

Every domain problem a user can meet (bad model, missing toolchain, firmware fault, budget
breach in the wrong place) is raised as a subclass of :class:`McusimError`. The CLI catches it
once, prints ``error: <message>`` on one line and exits with the class's ``exit_code``.
"""


class McusimError(Exception):
    """Base class: a problem the user can act on. ``str(err)`` is the one line shown."""

    exit_code = 2


class ModelError(McusimError):
    """The .tflite file is malformed, not int8, or uses something mcusim does not support."""


class ToolchainError(McusimError):
    """arm-none-eabi-gcc is missing or a build failed."""


class BoardError(McusimError):
    """Unknown board or operating point."""


class WrongCore(McusimError):
    """The ELF's build attributes name an architecture, DSP extension or FPU the board's core lacks."""


class FirmwareFault(McusimError):
    """The simulated firmware faulted (invalid access, undefined instruction, hard fault)."""

    exit_code = 1


class BudgetExceeded(McusimError):
    """The firmware ran past its instruction budget without reaching ``bkpt``."""

    exit_code = 1


class DoesNotFit(McusimError):
    """The image (or its static RAM) is larger than the board's flash or RAM."""

    exit_code = 1

    def __init__(self, message: str, over: dict[str, int | None] | None = None) -> None:
        super().__init__(message)
        self.over: dict[str, int | None] = dict(over or {})
        """Region name (``flash`` = the code flash) -> bytes it lacks (None: not known), as far as
        the failure says: what :mod:`mcusim.oversize` grows to measure the model anyway."""
