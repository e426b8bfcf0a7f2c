"""The optional C part of pylvs: the proxy's established-relay fast path.

Everything else is in pyproject.toml.  `optional=True`: without a C compiler or Python's
headers the build goes on without it and the proxy runs its pure-Python path
(pylvs.dataplane.proxy.poller says how the two relate).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pylvs.dataplane.proxy._pump",
            ["src/pylvs/dataplane/proxy/_pump.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
            optional=True,
        )
    ]
)
