"""The toolchain: arm-none-eabi-gcc per core, caches, linker maps."""
