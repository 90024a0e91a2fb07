"""Issue 14, case 10 (exports): `stance export` writes folders and files with the modes the
umask gives any new file (they used to be 0700/0600, whatever the umask)."""

import subprocess
import sys

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("umask, dirs, files", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_exported_model_respects_the_umask(store_copy, umask, dirs, files):
    out = store_copy["folder"] / "models" / "champion"
    subprocess.run([sys.executable, "-m", "stance.cli", "export", "--out", str(out)], cwd=store_copy["folder"],
                   env=store_copy["env"], umask=umask, check=True, capture_output=True)
    found = {p: p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    assert (out / "MLmodel").exists()
    assert {oct(m) for p, m in found.items() if p.is_dir()} == {oct(dirs)}
    assert {oct(m) for p, m in found.items() if p.is_file()} == {oct(files)}
