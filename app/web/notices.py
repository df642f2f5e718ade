"""The one-line confirmations shown after a form is saved (post/redirect/get).

A page redirects with ``?notice=<key>`` (:func:`app.web.forms.see_other`) and the next page shows
the sentence registered for that key in a GOV.UK notification banner. Only registered keys are
shown: the address never carries text that ends up on the page.
"""

from __future__ import annotations

NOTICES: dict[str, str] = {}


def register(**sentences: str) -> None:
    """Register notice keys (each module registers its own at import)."""
    for key, sentence in sentences.items():
        if NOTICES.get(key, sentence) != sentence:
            raise ValueError(f"notice {key!r} registered twice with different sentences")
        NOTICES[key] = sentence


def notice_for(key: str | None) -> str | None:
    return NOTICES.get(key) if key else None
