#!/usr/bin/env bash
# Set up mcusim on a fresh Debian/Ubuntu machine: the Arm cross compiler with newlib and its
# libstdc++ (apt, when missing), a host C compiler for the native cycle hook, headless
# Chromium for the HTML report test (skip with MCUSIM_NO_CHROMIUM=1), and the Python package
# with its test extras. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need_apt+=(gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
# The tflm path links real TensorFlow Lite Micro (C++) with arm-none-eabi-g++ against newlib's
# libstdc++/libsupc++; exports are built with make.
if ! command -v arm-none-eabi-g++ >/dev/null 2>&1 \
    || [ ! -f "$(arm-none-eabi-g++ -mcpu=cortex-m4 -mthumb -print-file-name=libstdc++_nano.a 2>/dev/null)" ]; then
    need_apt+=(gcc-arm-none-eabi libstdc++-arm-none-eabi-newlib)
fi
command -v make >/dev/null 2>&1 || need_apt+=(make)
# Headless Chromium renders the HTML report in the tests (optional for users).
if [ "${MCUSIM_NO_CHROMIUM:-}" = "" ]; then
    command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test,sweep,classic-ml]'
arm-none-eabi-gcc --version | head -n 1
