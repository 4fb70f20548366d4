"""The built wheel carries its migrations: an installed ``direkte db upgrade`` builds a database.

Builds the wheel from a copy of the checkout (so no ``build/`` is left in the tree),
installs it without dependencies into a fresh virtual environment whose dependencies
come from this environment's site-packages (a ``.pth`` line: no download, no compiler),
and upgrades an empty SQLite file with the installed command, run outside the checkout.
About 5 s, most of it the wheel build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import sqlalchemy as sa

from direkte.models import Base

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command; on failure, fail with its output."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "src", source / "src", ignore=ignore)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", source,
        cwd=tmp_path)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("direkte-*.whl")
    return wheel


def venv_with(wheel: Path, tmp_path: Path) -> Path:
    """A fresh venv with the wheel installed; the dependencies are this environment's."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=tmp_path).strip())  # fmt: skip
    # A plain path line: this environment's .pth files (its editable direkte) are not run.
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "_direkte_test_deps.pth").write_text("\n".join(ours) + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel,
        cwd=tmp_path)  # fmt: skip
    return venv


def test_installed_wheel_upgrades_an_empty_database(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    # The web app's pages, styles, vendored htmx, Swagger UI and ReDoc (the docs' start-up
    # script beside them) and catalogs travel with it.
    source = ROOT / "src"
    web = source / "direkte" / "web"
    kinds = (
        "templates/*.html",
        "static/*.css",
        "static/vendor/**/*",
        "static/docs/*",
        "locale/*/LC_MESSAGES/*.po",
    )
    for kind in kinds:
        for path in web.glob(kind):
            if path.is_file():
                assert path.relative_to(source).as_posix() in names, path
    assert "direkte/web/static/vendor/swagger-ui/swagger-ui-bundle.js" in names
    # The content screen's phrase lists and its classifier's weights (no build at start).
    guardrails = source / "direkte" / "guardrails"
    for path in [*guardrails.glob("phrases/*.txt"), guardrails / "content_model.npz"]:
        assert path.relative_to(source).as_posix() in names, path
    venv = venv_with(wheel, tmp_path)
    where = run(venv / "bin" / "python", "-c", "import direkte; print(direkte.__file__)",
                cwd=tmp_path)  # fmt: skip
    assert Path(where.strip()).is_relative_to(venv), where  # the wheel, not the checkout
    database = tmp_path / "empty.sqlite3"
    env = {
        **os.environ,
        "DIREKTE_DATABASE_URL": f"sqlite:///{database}",
        "DIREKTE_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("PYTHONPATH", None)
    run(venv / "bin" / "direkte", "db", "upgrade", cwd=tmp_path, env=env)

    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        tables = set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            heads = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert len(heads) == 1
