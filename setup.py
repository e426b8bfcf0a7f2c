"""The optional C parts of pylvs: the proxy's established-relay fast path and the
keepalived.conf reader's plain-line reader.

Everything else is in pyproject.toml.  `optional=True`: without a C compiler or Python's
headers the build goes on without them and pylvs runs their pure-Python paths
(pylvs.dataplane.proxy.poller and pylvs.config.keepalived.plain say how the two relate).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "pylvs.dataplane.proxy._pump",
            [
                "src/pylvs/dataplane/proxy/_pump.c",
                "src/pylvs/dataplane/proxy/vendor/picohttpparser.c",
            ],
            depends=[
                "src/pylvs/dataplane/proxy/_http1.h",
                "src/pylvs/dataplane/proxy/_h1own.h",
                "src/pylvs/dataplane/proxy/_h1conf.h",
                "src/pylvs/dataplane/proxy/vendor/picohttpparser.h",
                "src/pylvs/dataplane/proxy/_chunked.h",
                "src/pylvs/dataplane/proxy/_body.h",
                "src/pylvs/dataplane/proxy/_pipe.h",
                "src/pylvs/dataplane/proxy/_splice.h",
                "src/pylvs/dataplane/proxy/_balance.h",
                "src/pylvs/dataplane/proxy/_leastconn.h",
                "src/pylvs/dataplane/proxy/_accept.h",
            ],
            extra_compile_args=["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
            optional=True,
        ),
        Extension(
            "pylvs.config.keepalived._plain",
            ["src/pylvs/config/keepalived/_plain.c"],
            extra_compile_args=["-O2", "-Wall", "-Wextra"],
            optional=True,
        ),
    ]
)
