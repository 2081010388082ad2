"""Shared fixtures. Qt tests run offscreen; the engine tests never import Qt."""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# recovery copies of unsaved test windows never go to the user's own recovery folder
os.environ.setdefault("DEEPWIRE_RECOVERY_DIR", tempfile.mkdtemp(prefix="deepwire-recovery-"))
