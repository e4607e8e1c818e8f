"""uvicorn's access log without share tokens: a share link's secret is in its path (/api/v1/shared/TOKEN) and
in the web page's query (/shared/?token=TOKEN), and whoever reads the logs must not be able to open it."""

from __future__ import annotations

import logging
import re

SHARE_TOKEN_IN_URL = re.compile(r"(/api/v1/shared/|[?&]token=)[A-Za-z0-9_-]+")
REDACTED = r"\1[token]"


def redact_share_tokens(text: str) -> str:
    """`text` with every share token in a URL replaced by [token]."""
    return SHARE_TOKEN_IN_URL.sub(REDACTED, text)


class ShareTokenFilter(logging.Filter):
    """Redacts share tokens from a log record's message and arguments (uvicorn passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if isinstance(record.msg, str):
            record.msg = redact_share_tokens(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_share_tokens(a) if isinstance(a, str) else a for a in record.args)
        return True


def install_share_token_filter() -> None:
    """Filter uvicorn's access log (once per process, however many apps are created)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, ShareTokenFilter) for f in access.filters):
        access.addFilter(ShareTokenFilter())
