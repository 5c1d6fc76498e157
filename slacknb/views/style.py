"""The notebook views' shared inline styles (no stylesheet: the HTML stands alone)."""

__all__ = ["FONT", "MONO", "SCROLL_BOTTOM"]

FONT = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px"
MONO = "font-family:var(--jp-code-font-family,monospace);font-size:12px"
# column-reverse anchors a scroll box at its bottom without any script, so the
# newest row stays in view while rows are added.
SCROLL_BOTTOM = "overflow:auto;display:flex;flex-direction:column-reverse"
