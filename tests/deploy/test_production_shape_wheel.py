"""The wheel the image (Dockerfile) and a systemd install are made from holds every file the
hub reads at run time, not only the modules: a file missing from the package data works in
a checkout (tests, `make run`) and fails only once installed. The image once lacked the price
snapshot this way (it was read from config/ in the source tree).

Built with uv from a copy of the tracked files (about a second: no install, no network once
uv's cache has setuptools), then the wheel's listing is compared with the tree's."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The venv's uv (make install), else one on PATH (which make install then uses instead).
VENV_UV = Path(sys.executable).with_name("uv")
UV = VENV_UV if VENV_UV.exists() else Path(shutil.which("uv") or VENV_UV)
PACKAGES = ("hub", "connectors")
# Not package data: the Zapier app is a Node project of its own (`zapier push`), not read by
# the hub's processes.
NOT_SHIPPED = ("connectors/zapier/app/",)
# Every module that opens a file beside itself (Path(__file__)), and one file it opens.
READ_AT_RUN_TIME = {
    "hub/billing/snapshot_catalog.py": "hub/billing/model_prices.json",
    "hub/store/migrate.py": "hub/store/migrations/script.py.mako",
    "connectors/dashboard/kit.py": "connectors/dashboard/static/dashboard.css",
    "connectors/dashboard/i18n.py": "connectors/dashboard/locale/de/LC_MESSAGES/messages.po",
}


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--", *PACKAGES, "pyproject.toml", "README.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    return [
        name
        for name in listed.stdout.splitlines()
        if (ROOT / name).is_file() and not name.startswith(NOT_SHIPPED)
    ]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    if not UV.exists():
        pytest.skip("no uv, in the venv or on PATH (make install puts one in the venv)")
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert built.returncode == 0, built.stderr
    (path,) = (work / "dist").glob("unillm_hub-*.whl")
    return zipfile.ZipFile(path)


@pytest.fixture(scope="module")
def wheel_names(wheel: zipfile.ZipFile) -> set[str]:
    return set(wheel.namelist())


def test_the_wheel_holds_every_file_of_the_packages(wheel_names: set[str]) -> None:
    shipped = [n for n in tracked_files() if n.startswith(tuple(f"{p}/" for p in PACKAGES))]
    data = [n for n in shipped if not n.endswith(".py")]
    # Templates, static files, catalogues, migrations and the price snapshot at least.
    assert len(data) >= 30, data
    missing = sorted(set(shipped) - wheel_names)
    assert missing == [], f"not in the wheel (pyproject package-data): {missing}"


def test_what_each_module_opens_beside_itself_is_in_the_wheel(wheel_names: set[str]) -> None:
    for module, opened in READ_AT_RUN_TIME.items():
        source = (ROOT / module).read_text()
        assert "Path(__file__)" in source, module
        assert (ROOT / opened).is_file(), opened
        assert opened in wheel_names, f"{module} opens {opened}, which the wheel lacks"
    # Any other module that opens files beside itself has to be listed above.
    openers = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "Path(__file__)" in path.read_text(encoding="utf-8")
        and not str(path.relative_to(ROOT)).startswith(NOT_SHIPPED)
    )
    assert openers == sorted(READ_AT_RUN_TIME)


def test_the_wheel_has_the_hub_command_and_every_connector_plugin(wheel: zipfile.ZipFile) -> None:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
    text = wheel.read(name).decode()
    assert "hub = hub.cli:main" in text
    plugins = sorted(p.name for p in (ROOT / "connectors").iterdir() if (p / "plugin.py").is_file())
    for plugin in plugins:
        assert f"{plugin} = connectors.{plugin}:plugin" in text, plugin
