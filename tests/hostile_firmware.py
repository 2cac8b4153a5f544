"""A generated corpus of hostile firmware for `mcusim sim` (never hand-picked cases).

Each case is drawn from a seeded random generator: a category (random instruction streams,
corrupt vector tables, unbounded recursion, jumps into peripheral space, stores to flash,
unaligned LDM/LDRD/STRD, SVC/PendSV/exception returns without handlers, division by zero with
CCR.DIV_0_TRP, semihosting with garbage arguments, garbage stack pointers, FPU use with CP10/11
off, random loads/stores, spins) and its random operands. The firmware is assembled into a
vendor-style image (vector table at the flash origin, `Reset_Handler`, `Default_Handler: b .`)
and linked with tests/firmware/hostile.ld. ``case(seed)`` gives the same case for the same seed.
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FIRMWARE = Path(__file__).resolve().parent / "firmware"
BOARDS = ("stm32f411ce", "stm32l476rg", "stm32f301k8", "stm32g071rb")
FLASH, FLASH_SIZE, RAM, RAM_SIZE = 0x08000000, 64 * 1024, 0x20000000, 16 * 1024
CATEGORIES = ("random_stream", "corrupt_vectors", "recursion", "peripheral_jump", "flash_store",
              "unaligned_multiple", "no_handler", "div_zero_trap", "semihosting_garbage", "garbage_sp",
              "fpu_off", "random_memory", "spin")


@dataclass(frozen=True)
class Case:
    seed: int
    category: str
    board: str
    source: str

    @property
    def name(self) -> str:
        return f"{self.seed:04d}-{self.category}-{self.board}"


def _addr(rng: random.Random) -> int:
    """An address from everywhere: unmapped, flash, RAM edges, peripherals, system, top."""
    return rng.choice([
        0, 4, rng.randrange(0, 1 << 32), FLASH + rng.randrange(0, FLASH_SIZE), RAM + rng.randrange(0, RAM_SIZE),
        RAM + RAM_SIZE - rng.randrange(0, 64), RAM + RAM_SIZE + rng.randrange(0, 64), 0x40000000 + rng.randrange(0, 1 << 20),
        0xE000E000 + rng.randrange(0, 0x1000), 0xFFFFFFF0 + rng.randrange(0, 16), 0x5FFFF000,
    ])


def _payload(category: str, rng: random.Random) -> tuple[str, tuple[int, int] | None]:
    """(assembly of the payload function's body, (MSP, reset) for corrupt vector tables)."""
    r = lambda: rng.randrange(0, 8)  # noqa: E731 - a low register
    if category == "random_stream":
        hw = [rng.randrange(0, 1 << 16) for _ in range(rng.randrange(4, 64))]
        return "\n".join(f"    .hword 0x{h:04x}" for h in hw), None
    if category == "corrupt_vectors":
        msp = rng.choice([_addr(rng), RAM + RAM_SIZE, (RAM + rng.randrange(0, RAM_SIZE)) | rng.randrange(0, 4)])
        reset = rng.choice([_addr(rng), _addr(rng) | 1, FLASH + 0x41, FLASH + 0x40, 0xFFFFFFFF])
        return "    nop", (msp, reset)
    if category == "recursion":
        return f"    push {{r4, lr}}\n    sub sp, #{4 * rng.randrange(0, 128)}\n    str r0, [sp]\n    bl payload", None
    if category == "peripheral_jump":
        target = (0x40000000 + rng.randrange(0, 1 << 24)) | rng.randrange(0, 2)
        return f"    ldr r0, =0x{target:08x}\n    {rng.choice(['bx', 'blx'])} r0", None
    if category == "flash_store":
        op = rng.choice(["str r1, [r0]", "strb r1, [r0]", "strh r1, [r0]", "stm r0!, {r1, r2}", "strd r1, r2, [r0]"])
        return f"    ldr r0, =0x{FLASH + 4 * rng.randrange(0, FLASH_SIZE // 4):08x}\n    {op}", None
    if category == "unaligned_multiple":
        base = RAM + 4 * rng.randrange(16, RAM_SIZE // 8) + rng.choice([1, 2, 3])
        op = rng.choice(["ldm r0, {r1, r2}", "stm r0, {r1, r2}", "ldrd r1, r2, [r0]", "strd r1, r2, [r0]",
                         "ldr r1, [r0]", "str r1, [r0]", "ldrex r1, [r0]"])
        return f"    ldr r0, =0x{base:08x}\n    {op}", None
    if category == "no_handler":
        return rng.choice([
            f"    svc #{rng.randrange(0, 256)}",
            "    ldr r0, =0xE000ED04\n    ldr r1, =0x10000000\n    str r1, [r0]\n    dsb\n    isb",  # PendSV set
            f"    ldr r0, =0x{rng.choice([0xFFFFFFF1, 0xFFFFFFF9, 0xFFFFFFFD]):08x}\n    bx r0",  # EXC_RETURN
            f"    udf #{rng.randrange(0, 256)}",
            f"    bkpt #{rng.randrange(1, 256)}",
            f"    ldr r0, =0x{(FLASH + 2 * rng.randrange(0, 1024)) & ~1:08x}\n    bx r0",  # bit 0 clear
        ]), None
    if category == "div_zero_trap":
        op = rng.choice(["sdiv", "udiv"])
        return (f"    ldr r0, =0xE000ED14\n    ldr r1, [r0]\n    orr r1, r1, #16\n    str r1, [r0]\n"
                f"    ldr r1, =0x{rng.randrange(0, 1 << 32):08x}\n    movs r2, #0\n    {op} r0, r1, r2"), None
    if category == "semihosting_garbage":
        op = rng.choice([rng.randrange(0, 0x40), rng.randrange(0, 1 << 32), 0x01, 0x04, 0x05, 0x06, 0x16, 0x18, 0x20, 0x30])
        arg = rng.choice([_addr(rng), RAM + 4 * rng.randrange(0, RAM_SIZE // 4)])
        fill = "".join(f"    ldr r1, =0x{rng.randrange(0, 1 << 32):08x}\n    str r1, [r2, #{4 * i}]\n" for i in range(4))
        return (f"    ldr r2, =0x{RAM + 0x100:08x}\n{fill}    ldr r0, =0x{op:08x}\n    ldr r1, =0x{arg:08x}\n"
                f"    bkpt 0xab"), None
    if category == "garbage_sp":
        return f"    ldr r0, =0x{_addr(rng):08x}\n    mov sp, r0\n    push {{r1, r2}}\n    pop {{r1, r2}}", None
    if category == "fpu_off":
        return rng.choice(["    vmov s0, r0", "    vadd.f32 s0, s1, s2", "    vldr s0, [sp]"]), None
    if category == "random_memory":
        lines = []
        for _ in range(rng.randrange(1, 6)):
            lines.append(f"    ldr r0, =0x{_addr(rng) & ~3:08x}")
            lines.append(rng.choice(["    ldr r1, [r0]", "    str r1, [r0]", "    ldrb r1, [r0]", "    strh r1, [r0]"]))
        return "\n".join(lines), None
    if category == "spin":
        return rng.choice(["1:  nop\n    b 1b", "1:  wfi\n    b 1b", "1:  b 1b", "1:  cmp r7, r7\n    beq 1b"]), None
    raise ValueError(category)


def case(seed: int) -> Case:
    rng = random.Random(seed)
    category = CATEGORIES[seed % len(CATEGORIES)]
    board = rng.choice(BOARDS)
    body, vectors = _payload(category, rng)
    msp, reset = vectors or (RAM + RAM_SIZE, None)
    regs = "".join(f"    ldr r{i}, =0x{rng.randrange(0, 1 << 32):08x}\n" for i in range(4, 8))
    source = f"""    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .thumb
    .section .isr_vector, "a"
    .word 0x{msp:08x}
    .word {f"0x{reset:08x}" if reset is not None else "Reset_Handler"}
    .rept 14
    .word Default_Handler
    .endr
    .text
    .thumb_func
    .global Reset_Handler
Reset_Handler:
{regs}    bl payload
    movs r0, #0
    bkpt #0
    .thumb_func
Default_Handler:
    b .
    .balign 4
    .thumb_func
payload:
{body}
    bx lr
    .ltorg
"""
    return Case(seed, category, board, source)


def build(c: Case, out_dir: Path) -> Path:
    src = out_dir / f"{c.name}.S"
    elf = out_dir / f"{c.name}.elf"
    src.write_text(c.source)
    proc = subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                           "-T", str(FIRMWARE / "hostile.ld"), str(src), "-o", str(elf)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, (c.name, proc.stderr)
    return elf


def tally(seeds: range, out_dir: Path) -> dict[str, dict[str, int]]:
    """Outcome counts per category (report, fault, budget, refused, BAD) through the CLI."""
    import contextlib
    import io
    import os
    from collections import Counter, defaultdict

    from mcusim.cli import main

    table: dict[str, Counter[str]] = defaultdict(Counter)
    for seed in seeds:
        c = case(seed)
        elf = build(c, out_dir)
        err = io.StringIO()
        saved = os.dup(1)
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)  # semihosting output of garbage calls is binary
            try:
                with contextlib.redirect_stderr(err):
                    code = main(["sim", str(elf), "--board", c.board, "--max-instructions", "200000"])
            finally:
                sys.stdout.flush()
                os.dup2(saved, 1)
                os.close(saved)
        text = err.getvalue()
        kind = {0: "report", 2: "refused"}.get(code, "budget" if "instruction budget" in text else "fault")
        if code not in (0, 1, 2) or "internal error" in text or "Traceback" in text:
            kind = "BAD"
        table[c.category][kind] += 1
    return {k: dict(v) for k, v in table.items()}


if __name__ == "__main__":
    # python tests/hostile_firmware.py [N]: the outcome table of docs/reliability.md (seeds 0..N-1)
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 286
    with tempfile.TemporaryDirectory() as d:
        counts = tally(range(n), Path(d))
    kinds = ("report", "fault", "budget", "refused", "BAD")
    print("| category | " + " | ".join(kinds) + " |")
    for cat in CATEGORIES:
        print(f"| {cat} | " + " | ".join(str(counts.get(cat, {}).get(k, 0)) for k in kinds) + " |")
    print("| total | " + " | ".join(str(sum(c.get(k, 0) for c in counts.values())) for k in kinds) + " |")
