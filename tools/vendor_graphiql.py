"""Vendor the GraphiQL page's JavaScript and CSS from the npm registry (``npm pack``).

The files land in ``flowgen_runtime/graphql/static/graphiql/`` and ship in the wheel, so
``GET /graphql`` works offline (no CDN). Each package is pinned to an exact version and
its tarball's ``integrity`` (npm's sha512); a tarball that does not match is refused.
``manifest.json`` records, per package, the version, the integrity and the sha256 of every
file taken from it (tests/runtime/test_graphiql.py checks the committed files against it).

Why these versions: GraphiQL 3.x is the last line published with a UMD bundle (4.x and
5.x are ES modules that need a bundler and, for 5.x, Monaco's web workers); React 18.3.1
is the last React with UMD builds; @graphiql/plugin-explorer 3.2.6 is the explorer plugin
of the GraphiQL 3 line.

To update: change a version, set its integrity to ``""``, run
``.venv/bin/python tools/vendor_graphiql.py``; it prints the new integrity to pin (and
refuses to write until it is pinned). Then run the GraphiQL browser test
(``tests/browser``) and commit the script and the files together.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEST = REPO / "flowgen_runtime" / "graphql" / "static" / "graphiql"


@dataclass(frozen=True)
class Pin:
    package: str
    version: str
    integrity: str
    license: str
    files: dict[str, str]  # path in the tarball -> file name under DEST
    """The license text goes to ``licenses/<package>.txt`` (from ``LICENSE`` if present)."""


PINS = [
    Pin(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        "MIT",
        {"package/umd/react.production.min.js": "react.production.min.js"},
    ),
    Pin(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        "MIT",
        {"package/umd/react-dom.production.min.js": "react-dom.production.min.js"},
    ),
    Pin(
        "graphiql",
        "3.9.0",
        "sha512-rJYFlHdBbug9+YbFSwRVvgfPjCayC7wHecZkx/qB4XLuQPFQZw/yB9pmHFtOJV6RiNBBHro3u1GdocKa3YcGRA==",
        "MIT",
        {
            "package/graphiql.min.js": "graphiql.min.js",
            "package/graphiql.min.css": "graphiql.min.css",
        },
    ),
    Pin(
        "@graphiql/plugin-explorer",
        "3.2.6",
        "sha512-MXzG/zVNzZfes4Em253bHyAbD/lwwAZkPKvxCAQkjz0i3dtcv4uF3D8iqJ7214iu3SCphbORYZZUC93fik1yew==",
        "MIT",
        {
            "package/dist/index.umd.js": "graphiql-plugin-explorer.umd.js",
            "package/dist/style.css": "graphiql-plugin-explorer.css",
        },
    ),
    # bundled inside the explorer plugin's UMD file: only its license is taken
    Pin(
        "graphiql-explorer",
        "0.9.0",
        "sha512-fZC/wsuatqiQDO2otchxriFO0LaWIo/ovF/CQJ1yOudmY0P7pzDiP+l9CEHUiWbizk3e99x6DQG4XG1VxA+d6A==",
        "MIT",
        {},
    ),
]

# The monorepo's license for a package whose tarball carries none (same repository).
_LICENSE_FROM = {"@graphiql/plugin-explorer": "graphiql"}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        tarballs = {pin.package: _pack(pin, Path(tmp)) for pin in PINS}
        if any(t is None for t in tarballs.values()):
            return 1
        staged = Path(tmp) / "out"
        (staged / "licenses").mkdir(parents=True)
        manifest: dict[str, object] = {}
        for pin in PINS:
            tarball = tarballs[pin.package]
            assert tarball is not None
            with tarfile.open(tarball) as tar:
                files = {}
                for member, name in pin.files.items():
                    data = _read(tar, member)
                    (staged / name).write_bytes(data)
                    files[name] = hashlib.sha256(data).hexdigest()
                license_text = _read_optional(tar, "package/LICENSE")
            if license_text is None:
                source = tarballs[_LICENSE_FROM[pin.package]]
                assert source is not None
                with tarfile.open(source) as tar:
                    license_text = _read(tar, "package/LICENSE")
            license_name = f"licenses/{pin.package.replace('/', '__')}.txt"
            (staged / license_name).write_bytes(license_text)
            manifest[pin.package] = {
                "version": pin.version,
                "integrity": pin.integrity,
                "license": pin.license,
                "license_file": license_name,
                "files": files,
            }
        text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
        (staged / "manifest.json").write_text(text, encoding="utf-8")
        for name in [*(n for p in PINS for n in p.files.values()), "manifest.json"]:
            shutil.copyfile(staged / name, DEST / name)
        shutil.rmtree(DEST / "licenses", ignore_errors=True)
        shutil.copytree(staged / "licenses", DEST / "licenses")
    print(f"vendored {len(PINS)} packages into {DEST.relative_to(REPO)}")
    return 0


def _pack(pin: Pin, into: Path) -> Path | None:
    """``npm pack package@version``; None (and a message) if the integrity is not the pin."""
    spec = f"{pin.package}@{pin.version}"
    out = subprocess.run(
        ["npm", "pack", spec, "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (info,) = json.loads(out)
    if info["integrity"] != pin.integrity:
        print(f"{spec}: integrity {info['integrity']} is not the pinned {pin.integrity!r}")
        return None
    return into / info["filename"]


def _read(tar: tarfile.TarFile, member: str) -> bytes:
    data = _read_optional(tar, member)
    if data is None:
        raise SystemExit(f"{tar.name}: no {member}")
    return data


def _read_optional(tar: tarfile.TarFile, member: str) -> bytes | None:
    try:
        fh = tar.extractfile(member)
    except KeyError:
        return None
    return fh.read() if fh is not None else None


if __name__ == "__main__":
    sys.exit(main())
