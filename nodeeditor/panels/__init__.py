"""The dock panels around the canvas: palette, inspector, diagnostics, training."""
