"""Shared fixtures. Qt tests run offscreen; the engine tests never import Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
