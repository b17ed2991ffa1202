#!/usr/bin/env bash
# The PyTorch reference for `npm run bench`: Debian's python3-torch (CPU) and torchvision,
# installed with apt when missing. Never part of the tests.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then exit 0; fi
echo "installing python3-torch and python3-torchvision with apt (once)..."
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo -n"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-torchvision >/dev/null
/usr/bin/python3 -c 'import torch, torchvision'
