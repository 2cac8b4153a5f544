"""Building firmware the way vendor examples are built, with arm-none-eabi-gcc directly (not
mcusim's toolchain): tests/firmware/startup_vendor.c (a writable vector table) and
tests/firmware/vendor.ld (no `_end`), newlib nano with nosys or rdimon (semihosting) specs."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent / "firmware"
CFLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-O2", "-g",
          "-ffunction-sections", "-fdata-sections")


def build_vendor(out_dir: Path, source: str | Path, specs: str = "nosys", defines: dict[str, object] | None = None,
                 script: Path | None = None, startup: bool = True) -> Path:
    """Compile and link ``source`` (a name under tests/firmware/ or a path) into an ELF in
    ``out_dir``; ``specs`` is ``nosys`` or ``rdimon``."""
    src = Path(source) if Path(source).is_absolute() else FIRMWARE / source
    script = script or FIRMWARE / "vendor.ld"
    defs = [f"-D{k}={v}" for k, v in sorted((defines or {}).items())]
    srcs = ([str(FIRMWARE / "startup_vendor.c")] if startup else []) + [str(src)]
    key = hashlib.sha256(" ".join([*srcs, specs, *defs, str(script)]).encode()).hexdigest()[:12]
    elf = out_dir / f"{src.stem}-{key}.elf"
    if not elf.exists():
        cmd = ["arm-none-eabi-gcc", *CFLAGS, *defs, *srcs, "-T", str(script), "--specs=nano.specs",
               f"--specs={specs}.specs", "-Wl,--gc-sections", "-o", str(elf)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    return elf


def size_of(elf: Path) -> dict[str, int]:
    """Section sizes as `arm-none-eabi-size -A` prints them."""
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def berkeley_size(elf: Path) -> tuple[int, int, int]:
    """(text, data, bss) of `arm-none-eabi-size` (Berkeley format)."""
    out = subprocess.run(["arm-none-eabi-size", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = out.splitlines()[1].split()[:3]
    return int(text), int(data), int(bss)
