"""The simulator: Unicorn machine, cycle model (native block hook, ISA, cores), ELF, boards."""
