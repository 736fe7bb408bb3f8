"""Builds the Go shared library into the package being built (so that
"pip install ./python" needs Go and a C compiler, nothing downloaded but Go
modules); the rest of the metadata is in pyproject.toml."""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        target = os.path.abspath(os.path.join(self.build_lib, "dlnmf", "libdlnmf.so"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        subprocess.run([os.path.join(HERE, "..", "scripts", "build-python-lib.sh"), target], check=True)


class BinaryDistribution(Distribution):
    """The wheel holds a shared library: tag it for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary}, distclass=BinaryDistribution)
