"""Writing generated pages: UTF-8, atomically (shared by the explorer, the charts and the notebook views)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_html(html: str, out: Path) -> Path:
    """Write html to out as UTF-8, atomically (temporary file in the same folder, then rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=str(out.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
