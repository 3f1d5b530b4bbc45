"""Shared test set-up: every module of the package is imported so that every op
is registered before the generic tests walk the registry."""

import importlib
import pkgutil

import tinygrad_edu

for module in pkgutil.walk_packages(tinygrad_edu.__path__, "tinygrad_edu."):
    if module.name != "tinygrad_edu.__main__":
        importlib.import_module(module.name)
